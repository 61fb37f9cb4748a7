"""Builds the nn.Sequential that a tl.sequential describes (its config.modules, PyTorch's class
names and argument names), loads a state_dict file that tensorlane wrote with
load_state_dict(strict=True), and writes the eval-mode scores of an input. Used by
test/torch-state-dict.test.ts; run with Debian's /usr/bin/python3 (python3-torch).

    python3 load_state_dict.py job.json
    job.json: {"modules": [...], "state_dict": path, "x": path, "out": path}
"""
import json
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures", "torch"))
import st  # noqa: E402  (the fixtures' dependency-free safetensors reader and writer)
from modules import Residual  # noqa: E402


def build(spec):
    t = spec["type"]
    a = spec.get("args", {})
    children = spec.get("children", {})
    if t == "Linear":
        return nn.Linear(a["in_features"], a["out_features"], bias=a["bias"])
    if t == "Conv2d":
        return nn.Conv2d(a["in_channels"], a["out_channels"], tuple(a["kernel_size"]), stride=a["stride"],
                         padding=a["padding"], groups=a["groups"], bias=a["bias"])
    if t in ("BatchNorm1d", "BatchNorm2d"):
        return getattr(nn, t)(a["num_features"], eps=a["eps"], momentum=a["momentum"])
    if t in ("ReLU", "Tanh", "Sigmoid", "Flatten"):
        return getattr(nn, t)()
    if t == "LeakyReLU":
        return nn.LeakyReLU(a.get("negative_slope", 0.01))
    if t == "GELU":
        return nn.GELU(approximate=a.get("approximate", "none"))
    if t == "Dropout":
        return nn.Dropout(a["p"])
    if t == "MaxPool2d":
        return nn.MaxPool2d(a["kernel_size"], stride=a.get("stride"), padding=a.get("padding", 0))
    if t == "AvgPool2d":
        return nn.AvgPool2d(a["kernel_size"], stride=a.get("stride"), padding=a.get("padding", 0),
                            count_include_pad=a.get("count_include_pad", True))
    if t in ("AdaptiveAvgPool2d", "GlobalAvgPool", "GlobalAvgPool2d"):
        return nn.AdaptiveAvgPool2d(1)
    if t == "Residual":
        body = nn.Sequential(*[build(s) for s in children["body"]])
        shortcut = children.get("shortcut")
        return Residual(body, nn.Sequential(*[build(s) for s in shortcut]) if shortcut else None)
    raise ValueError(f"no PyTorch module for {t}")


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    torch.set_num_threads(1)
    net = nn.Sequential(*[build(s) for s in job["modules"]])
    state, _ = st.load(job["state_dict"])
    result = net.load_state_dict(state, strict=True)  # raises on any missing or unexpected key, or a wrong shape
    net.eval()
    x = st.load(job["x"])[0]["x"]
    with torch.no_grad():
        scores = net(x.float())
    dtypes = {k: str(v.dtype) for k, v in state.items()}
    st.save(job["out"], {"scores": scores.contiguous()}, {"dtypes": json.dumps(dtypes), "result": str(result)})


if __name__ == "__main__":
    main()
