"""The second peer of `npm run bench:node`: the seed's PyTorch program on this machine's CPU.
Prints one JSON object: MLP training samples/s at the given batch sizes and matmul GFLOP/s, each a
list of repetitions (warm-up excluded). Reads the embedded digits (run `npm run build:lib` first)."""
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.optim as optim

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures"))
from seed_program import Net, load  # noqa: E402


def mlp(x, y, batch, steps):
    torch.manual_seed(0)
    model = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.05)
    n = x.shape[0]
    batches = [((s * batch) % n, batch) for s in range(16)]
    start = time.perf_counter()
    for s in range(steps):
        i, b = batches[s % len(batches)]
        X, Y = x[i : i + b], y[i : i + b]
        optimizer.zero_grad()
        loss = criterion(model(X), Y)
        loss.backward()
        optimizer.step()
    return steps * batch / (time.perf_counter() - start)


def matmul(m, k, n, reps):
    a, b = torch.rand(m, k), torch.rand(k, n)
    a @ b
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * m * n * k * reps / (time.perf_counter() - start) / 1e9


def main():
    spec = json.loads(sys.argv[1])
    x, y, _, _ = load()
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "mlp": {}, "matmul": {}}
    for b in spec["mlp"]:
        batch = x.shape[0] if b["batch"] == "full" else b["batch"]
        mlp(x, y, batch, max(2, b["steps"] // 5))
        out["mlp"][str(b["batch"])] = [mlp(x, y, batch, b["steps"]) for _ in range(spec["repetitions"])]
    for m in spec["matmul"]:
        out["matmul"][m["label"]] = [matmul(m["M"], m["K"], m["N"], m["reps"]) for _ in range(spec["repetitions"])]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
