// The peers' settings, shared by the workloads and the reports (kept apart from workloads.ts so
// the Playwright side can import it without loading the library's WGSL).

/** TF.js's four settings (batches uploaded or resident on the GPU × default or tiled matmul); the best counts. */
export const TF_SETTINGS = ['tfjs', 'tfjs-tiled', 'tfjs-resident', 'tfjs-resident-tiled'] as const;
