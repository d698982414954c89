// The error-input table, beside the op table: each bad input, the error class it must raise, and
// the words its message must contain (the op and the shapes or values at fault).
import {
  AutogradError,
  DeviceLimitError,
  DisposedError,
  DTypeError,
  full,
  nn,
  optim,
  runtimeInfo,
  ShapeError,
  type Tensor,
  tensor,
  ValueError,
  zeros,
} from '../src/index.js';

export interface ErrorCase {
  label: string;
  run: () => unknown;
  error: new (...args: never[]) => Error;
  /** A function when the message depends on the device (its limits). */
  message: RegExp | (() => RegExp);
}

const f = (shape: number[]): Tensor => zeros(shape);
const labels = (values: number[]): Tensor => tensor(new Int32Array(values));

const limits = () => runtimeInfo().limits;
const overBinding = () => Math.floor(limits().maxStorageBufferBindingSize / 4) + 1;

export function errorTable(): ErrorCase[] {
  return [
    {
      label: 'matmul inner-dimension mismatch',
      run: () => f([2, 3]).matmul(f([4, 5])),
      error: ShapeError,
      message: /matmul: inner dimensions differ: \[2, 3\] · \[4, 5\] \(3 ≠ 4\)/,
    },
    {
      label: 'matmul of a 0-d tensor',
      run: () => f([]).matmul(f([4, 5])),
      error: ShapeError,
      message: /matmul: both operands must have at least 1 dimension, got \[\] and \[4, 5\]/,
    },
    {
      label: 'bias shape mismatch',
      run: () => f([2, 3]).add(f([4])),
      error: ShapeError,
      message: /add: shapes \[2, 3\] and \[4\] cannot be broadcast together/,
    },
    {
      label: 'Linear given the wrong number of features',
      run: () => new nn.Linear(784, 128).forward(f([64, 783])),
      error: ShapeError,
      message: /Linear\(784, 128\): expected input \[\*, 784\], got \[64, 783\]/,
    },
    {
      label: 'labels not int32',
      run: () => nn.functional.crossEntropy(f([4, 10]), f([4])),
      error: DTypeError,
      message: /crossEntropy: labels must be int32 class indices, got float32 \(shape \[4\]\)/,
    },
    {
      label: 'a label ≥ the number of classes',
      run: () => nn.functional.crossEntropy(f([2, 10]), labels([3, 10])),
      error: ValueError,
      message: /crossEntropy: label 10 is outside \[0, 10\) for logits \[2, 10\]/,
    },
    {
      label: 'a negative label',
      run: () => nn.functional.crossEntropy(f([2, 10]), labels([-1, 2])),
      error: ValueError,
      message: /label -1 is outside \[0, 10\)/,
    },
    {
      label: 'logits and labels of different batch sizes',
      run: () => nn.functional.crossEntropy(f([4, 10]), labels([1, 2, 3])),
      error: ShapeError,
      message: /logits \[4, 10\] and labels \[3\] have different batch sizes \(4 ≠ 3\)/,
    },
    // As in PyTorch, matmul with K = 0 gives zeros, the mean of nothing NaN, and cross-entropy of an
    // empty batch NaN (tests/hostile/numerics.test.ts); argmax over an empty axis stays an error.
    {
      label: 'argmax over an empty axis',
      run: () => f([3, 0]).argmax(),
      error: ShapeError,
      message: /argmax: the axis is empty \(shape \[3, 0\]\): axis -1 has no values/,
    },
    {
      label: 'argmax over an empty first axis',
      run: () => f([0, 5]).argmax(0),
      error: ShapeError,
      message: /argmax: the axis is empty \(shape \[0, 5\]\): axis 0 has no values/,
    },
    {
      label: 'reshape to a different number of elements',
      run: () => f([2, 3]).reshape([4]),
      error: ShapeError,
      message: /reshape: cannot reshape \[2, 3\] \(6 elements\) to \[4\]/,
    },
    {
      label: 'a tensor over maxStorageBufferBindingSize',
      run: () => zeros([overBinding()]),
      error: DeviceLimitError,
      message: () => {
        const { maxStorageBufferBindingSize, maxBufferSize } = limits();
        const n = overBinding();
        return new RegExp(
          `full\\(\\): a tensor of shape \\[${n}\\] needs ${n * 4} bytes, over the device's (maxStorageBufferBindingSize of ${maxStorageBufferBindingSize}|maxBufferSize of ${maxBufferSize}) bytes`,
        );
      },
    },
    {
      label: 'a matmul result over the device limits',
      run: () => f([overBinding(), 1]).matmul(f([1, 1])),
      error: DeviceLimitError,
      message: /(full\(\)|matmul): a tensor of shape .* bytes, over the device's max(StorageBufferBinding|Buffer)Size/,
    },
    {
      label: 'a tensor over maxBufferSize',
      run: () => tensor(new Float32Array(0), { shape: [Math.floor(limits().maxBufferSize / 4) + 1] }),
      error: ShapeError,
      message: /tensor\(\): 0 values cannot have shape/,
    },
    {
      label: 'use of a disposed tensor',
      run: () => {
        const t = f([2]);
        t.dispose();
        return t.add(f([2]));
      },
      error: DisposedError,
      message: /add: a tensor of shape \[2\] was used after it was released/,
    },
    {
      label: 'reading a disposed tensor',
      run: () => {
        const t = f([2]);
        t.dispose();
        return t.data();
      },
      error: DisposedError,
      message: /data: a tensor of shape \[2\] was used after it was released/,
    },
    {
      label: 'backward through a freed graph',
      run: () => {
        const x = tensor([1, 2], { requiresGrad: true });
        const y = x.mul(2).sum();
        y.backward();
        y.backward();
      },
      error: AutogradError,
      message: /backward\(\): the graph was already freed/,
    },
    {
      label: 'backward from a non-scalar',
      run: () => tensor([1, 2], { requiresGrad: true }).mul(2).backward(),
      error: AutogradError,
      message: /backward\(\): the tensor has shape \[2\]; only a scalar/,
    },
    {
      label: 'gradients for an int32 tensor',
      run: () => (tensor(new Int32Array([1])).requiresGrad = true),
      error: ValueError,
      message: /only float32 tensors can require gradients \(this one is int32\)/,
    },
    {
      label: 'a ragged nested array',
      run: () => tensor([[1, 2], [3]]),
      error: ShapeError,
      message: /tensor\(\): ragged nested array at \[1\]: expected 2 entries/,
    },
    {
      label: 'item() of a tensor of many elements',
      run: () => f([2, 2]).item(),
      error: ValueError,
      message: /item\(\): tensor of shape \[2, 2\] has 4 elements, not 1/,
    },
    {
      label: 'write() with the wrong number of values',
      run: () => f([2, 2]).write([1, 2, 3]),
      error: ValueError,
      message: /write\(\): 3 values for a tensor of shape \[2, 2\] \(4 elements\)/,
    },
    {
      label: 'SGD with a negative learning rate',
      run: () => new optim.SGD([tensor([1], { requiresGrad: true })], { lr: -1 }),
      error: ValueError,
      message: /SGD: invalid learning rate -1/,
    },
    {
      label: 'nesterov without momentum',
      run: () => new optim.SGD([tensor([1], { requiresGrad: true })], { lr: 0.1, nesterov: true }),
      error: ValueError,
      message: /nesterov momentum needs momentum > 0 and dampening 0/,
    },
    { label: 'full() with a fractional size', run: () => full([2.5], 1), error: ShapeError, message: /full\(\): invalid shape \[2.5\]/ },
    // Lists of dims, as PyTorch: each dim in range, none twice (also -1 and ndim-1), a 0-d tensor's one dim once.
    {
      label: 'amax over a repeated dim',
      run: () => f([2, 3]).amax([1, -1]),
      error: ShapeError,
      message: /amax: dim 1 appears more than once in the dims \[1,-1\]/,
    },
    {
      label: 'amin over a dim out of range',
      run: () => f([2, 3]).amin([0, -3]),
      error: ShapeError,
      message: /amin: axis -3 is out of range for a tensor with 2 dimensions/,
    },
    {
      label: 'var over a dim out of range',
      run: () => f([2, 3]).var([0, 2]),
      error: ShapeError,
      message: /var: axis 2 is out of range for a tensor with 2 dimensions/,
    },
    {
      label: 'std over a repeated dim',
      run: () => f([2, 3, 4]).std([2, 0, 2]),
      error: ShapeError,
      message: /std: dim 2 appears more than once in the dims \[2,0,2\]/,
    },
    {
      label: 'norm over a repeated dim',
      run: () => f([2, 3, 4]).norm(2, [0, -3]),
      error: ShapeError,
      message: /norm: dim 0 appears more than once in the dims \[0,-3\]/,
    },
    {
      label: 'logsumexp over a repeated dim',
      run: () => f([2, 3]).logsumexp([0, 0]),
      error: ShapeError,
      message: /logsumexp: dim 0 appears more than once in the dims \[0,0\]/,
    },
    { label: 'a non-integer dim in a list', run: () => f([2, 3]).var([0.5]), error: ShapeError, message: /var: axis 0.5 is out of range/ },
    {
      label: 'the one dim of a 0-d tensor named twice',
      run: () => f([]).sum([0, -1]),
      error: ShapeError,
      message: /sum: dim 0 appears more than once in the dims \[0,-1\]/,
    },
    {
      label: 'max given a list of dims (torch.max takes one)',
      run: () => f([2, 3]).max([0, 1] as never),
      error: ShapeError,
      message: /max: dim must be one integer or null, got the list \[0,1\]; amax reduces over a list of dims/,
    },
    {
      label: 'amax over a list holding an empty dim',
      run: () => f([2, 0, 3]).amax([0, 1]),
      error: ShapeError,
      message: /amax: cannot reduce dim 1, which is empty \(shape \[2, 0, 3\]\): the amax of nothing has no value/,
    },
    {
      label: 'embedding index outside the table',
      run: () => nn.functional.embedding(labels([0, 5]), f([3, 4])),
      error: ValueError,
      message: /embedding: index 5 is out of range for numEmbeddings 3 \(weight \[3, 4\]\)/,
    },
    {
      label: 'gather index larger than the input apart from dim',
      run: () => f([3, 4]).gather(0, tensor(new Int32Array(5), { shape: [1, 5] })),
      error: ShapeError,
      message: /gather: size does not match at dimension 1: index \[1, 5\] must be no larger than input \[3, 4\]/,
    },
    {
      label: 'indexSelect with a matrix of indices',
      run: () => f([3, 4]).indexSelect(0, tensor(new Int32Array(4), { shape: [2, 2] })),
      error: ShapeError,
      message: /indexSelect: index must be a vector \(0-d or 1-D\), got shape \[2, 2\]/,
    },
    {
      label: 'split sizes that do not add up',
      run: () => f([5]).split([2, 2]),
      error: ShapeError,
      message: /split: split sizes \[2, 2\] must sum exactly to 5/,
    },
  ];
}
