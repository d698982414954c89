// The block-specific parts of shaders/matmul_vec4.wgsl (a template): for a block of `rows` × `cols`
// outputs per invocation, the loads of A and B, the multiply-adds and the stores, written out per
// element. WGSL cannot index registers, and an array indexed in a loop may live in memory on some
// compilers; named variables stay in registers wherever the block fits. kernels.ts builds the
// kernels from this text; matmul_tuning.ts picks the block per product.

/** The block sides the vectorised kernel is generated for (rows and columns alike). */
export const VEC4_BLOCK_SIDES = [4, 8, 16] as const;
export type Vec4BlockSide = (typeof VEC4_BLOCK_SIDES)[number];

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const lane = ['x', 'y', 'z', 'w'] as const;

/**
 * The product part of an entry point: accumulators acc_r_c (row r of the block, columns 4c..4c+3)
 * summed over K, four k per step. Per step, a_r holds A(row0 + r, k..k+3) and b_j_c holds
 * B(k + j, col0 + 4c..+3), however each operand is read (the layout).
 */
function product(rows: number, cols: number, aAlongK: boolean, bAlongN: boolean): string {
  const groups = rows / 4; // vec4s of 4 rows at one k, when A is read along m
  const colVecs = cols / 4; // vec4s of 4 columns at one k, when B is read along n
  const L: string[] = ['  let row0 = at.x;', '  let col0 = at.y;'];
  // Where each vec4 of A and of B starts (in vec4s); each step of 4 in k moves it by 1 along k, else by the stride.
  if (aAlongK) {
    for (const r of range(rows)) L.push(`  var ia${r} = (bases.x + min(row0 + ${r}u, P.M - 1u) * P.a_rs) / 4u;`);
  } else {
    L.push('  let sa = P.a_cs / 4u;');
    for (const g of range(groups)) L.push(`  var ia${g} = (bases.x + min(row0 + ${4 * g}u, P.M - 4u)) / 4u;`);
  }
  if (bAlongN) {
    L.push('  let sb = P.b_rs / 4u;');
    for (const c of range(colVecs)) L.push(`  var ib${c} = (bases.y + min(col0 + ${4 * c}u, P.N - 4u)) / 4u;`);
  } else {
    for (const n of range(cols)) L.push(`  var ib${n} = (bases.y + min(col0 + ${n}u, P.N - 1u) * P.b_cs) / 4u;`);
  }
  for (const r of range(rows)) for (const c of range(colVecs)) L.push(`  var acc${r}_${c} = vec4<f32>(0.0);`);
  L.push('  for (var k = 0u; k < P.K; k = k + 4u) {');
  if (aAlongK) {
    for (const r of range(rows)) L.push(`    let a${r} = A4[ia${r}];`, `    ia${r} = ia${r} + 1u;`);
  } else {
    for (const g of range(groups)) {
      // p_g_j: rows 4g..4g+3 at k + j; row 4g + i at k..k+3 is lane i of each.
      for (const j of range(4)) L.push(`    let p${g}_${j} = A4[ia${g}${j === 0 ? '' : ` + ${j}u * sa`}];`);
      for (const i of range(4))
        L.push(
          `    let a${4 * g + i} = vec4<f32>(${range(4)
            .map((j) => `p${g}_${j}.${lane[i]}`)
            .join(', ')});`,
        );
      L.push(`    ia${g} = ia${g} + P.a_cs;`);
    }
  }
  if (bAlongN) {
    for (const c of range(colVecs)) {
      for (const j of range(4)) L.push(`    let b${j}_${c} = B4[ib${c}${j === 0 ? '' : ` + ${j}u * sb`}];`);
      L.push(`    ib${c} = ib${c} + P.b_rs;`);
    }
  } else {
    // q_n: column col0 + n at k..k+3; B(k + j, col0 + 4c + i) is lane j of q_(4c+i).
    for (const n of range(cols)) L.push(`    let q${n} = B4[ib${n}];`, `    ib${n} = ib${n} + 1u;`);
    for (const c of range(colVecs))
      for (const j of range(4))
        L.push(
          `    let b${j}_${c} = vec4<f32>(${range(4)
            .map((i) => `q${4 * c + i}.${lane[j]}`)
            .join(', ')});`,
        );
  }
  // The same order for every block: acc + a.x·b0, then + a.y·b1, + a.z·b2, + a.w·b3.
  for (const r of range(rows))
    for (const c of range(colVecs)) {
      const terms = range(4).reduce((acc, j) => `madd(vec4<f32>(a${r}.${lane[j]}), b${j}_${c}, ${acc})`, `acc${r}_${c}`);
      L.push(`    acc${r}_${c} = ${terms};`);
    }
  L.push('  }');
  return L.join('\n');
}

/** The stores of the block: each row's vec4s through store_vec4 (or store_vec4_bias), rows inside M only. */
function store(rows: number, cols: number, bias: boolean): string {
  const fn = bias ? 'store_vec4_bias' : 'store_vec4';
  return range(rows)
    .map((r) => {
      const calls = range(cols / 4).map((c) => `${fn}(c_base, row0 + ${r}u, col0 + ${4 * c}u, acc${r}_${c});`);
      return `  if (row0 + ${r}u < P.M) { ${calls.join(' ')} }`;
    })
    .join('\n');
}

/** How a product's operands are read: A along k (its rows contiguous) or m, B along n or k. */
export interface Vec4Layout {
  aAlongK: boolean;
  bAlongN: boolean;
}

/**
 * The placeholders of shaders/matmul_vec4.wgsl for a block of rows × cols and one read layout.
 * The layout is fixed in the text, not an override: with both ways in one module the 16×16 block
 * took lavapipe ~7 s to compile (one way: ~0.2 s).
 */
export function vec4BlockParts(rows: Vec4BlockSide, cols: Vec4BlockSide, layout: Vec4Layout): { PRODUCT: string; STORE: string; STORE_BIAS: string } {
  return { PRODUCT: product(rows, cols, layout.aAlongK, layout.bAlongN), STORE: store(rows, cols, false), STORE_BIAS: store(rows, cols, true) };
}
