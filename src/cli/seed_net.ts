// The 784-128-10 MLP of the PyTorch MNIST program this project reproduces, written with webgrad's
// public API as a user would.
import { nn, type Tensor } from '../index.js';

export class Net extends nn.Module {
  fc1: nn.Linear;
  relu = new nn.ReLU();
  fc2: nn.Linear;
  constructor() {
    super();
    this.fc1 = new nn.Linear(784, 128);
    this.fc2 = new nn.Linear(128, 10);
  }
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.relu.forward(this.fc1.forward(x)));
  }
}
