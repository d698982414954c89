"""The second peer of `npm run bench:node`: the seed's PyTorch program on this machine's CPU.
Prints one JSON object: MLP training samples/s at the given batch sizes and matmul GFLOP/s, each a
list of repetitions (warm-up excluded), and for the CNN rows LeNet training samples/s with plain
SGD from the initial weights given on stdin (JSON: {"lenet": [conv1.weight, ..., fc2.bias] as flat
lists}), with the first and last loss of a checking run. Reads the embedded digits (run
`npm run build:lib` first)."""
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.optim as optim

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures"))
from lenet_program import LeNet  # noqa: E402
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


def lenet(x, y, batch, steps, weights, batches=16, warmup=2):
    """LeNet with webgrad's initial weights, plain SGD (lr 0.05) on the same batches as the other
    libraries (the first `batches` of 16; 1 for the checking run); returns samples/s over `steps`
    after `warmup` untimed steps, and the losses of the very first step, the first timed step and
    the last."""
    model = LeNet()
    with torch.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(torch.tensor(w, dtype=torch.float32).reshape(p.shape))
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.05)
    losses = []
    start = time.perf_counter()
    for s in range(-warmup, steps):
        if s == 0:
            start = time.perf_counter()
        i = ((s + warmup) % batches) * batch
        X, Y = x[i : i + batch], y[i : i + batch]
        optimizer.zero_grad()
        loss = criterion(model(X), Y)
        loss.backward()
        optimizer.step()
        if s in (-warmup, 0, steps - 1):
            losses.append(loss.item())
    return steps * batch / (time.perf_counter() - start), losses


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
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "mlp": {}, "matmul": {}, "cnn": {}}
    for b in spec["mlp"]:
        batch = x.shape[0] if b["batch"] == "full" else b["batch"]
        mlp(x, y, batch, max(2, b["steps"] // 5))
        out["mlp"][str(b["batch"])] = [mlp(x, y, batch, b["steps"]) for _ in range(spec["repetitions"])]
    for m in spec["matmul"]:
        out["matmul"][m["label"]] = [matmul(m["M"], m["K"], m["N"], m["reps"]) for _ in range(spec["repetitions"])]
    if spec.get("cnn"):
        weights = json.load(sys.stdin)["lenet"]
        for c in spec["cnn"]:
            _, losses = lenet(x, y, c["batch"], max(3, min(c["steps"], 20)), weights, batches=1)
            rates = [lenet(x, y, c["batch"], c["steps"], weights)[0] for _ in range(spec["repetitions"])]
            out["cnn"][str(c["batch"])] = {"rates": rates, "losses": losses}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
