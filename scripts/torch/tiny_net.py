"""The small network whose state dict the PyTorch I/O fixtures and the safetensors round trip use:
a conv, a batch norm (running statistics and the int64 num_batches_tracked) and a linear layer.
Its convkit twin is TinyNet in scripts/torch/safetensors-roundtrip.ts (same parameter names)."""
import torch


class TinyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.bn = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(16, 5)

    def forward(self, x):
        return self.fc(torch.relu(self.bn(self.conv(x))).flatten(1))
