// The smallest useful import, to measure what tree-shaking leaves: a matmul.
import { init, tensor } from 'webgrad';

await init();
console.log(
  await tensor([[1, 2]])
    .matmul(tensor([[3], [4]]))
    .item(),
);
