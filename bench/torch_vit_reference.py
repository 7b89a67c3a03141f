"""PyTorch reference for bench/vit-throughput: a timm-layout ViT, forward and AdamW train step.

Prints one JSON object: images/s for forward (no grad) and a training step (cross-entropy on the
class token through a linear head, AdamW), plus peak RSS (and peak CUDA memory with --device cuda).
Written in plain torch so that it needs only Debian's python3-torch on CPU; the architecture and
shapes match faceprior's vit.ts. fp32 throughout, PyTorch's default matmul precision.
"""
import argparse, json, resource, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio=4.0):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, int(dim * mlp_ratio))
        self.fc2 = nn.Linear(int(dim * mlp_ratio), dim)

    def forward(self, x):
        b, l, d = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(b, l, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * (d // self.heads) ** -0.5
        y = (attn.softmax(-1) @ v).transpose(1, 2).reshape(b, l, d)
        x = x + self.proj(y)
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ViT(nn.Module):
    def __init__(self, img=112, patch=16, dim=192, depth=12, heads=3, classes=7):
        super().__init__()
        n = (img // patch) ** 2
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, dim))
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def features(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)


def timed(fn, repeats, device="cpu"):
    """Mean seconds per call after a warm-up call; CUDA work is awaited, since it runs async."""
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    fn()  # warm-up
    sync()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    sync()
    return (time.perf_counter() - start) / repeats


def add_device_argument(ap):
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")


def memory_report(device):
    """Peak RSS, and on CUDA the most memory PyTorch allocated on the GPU."""
    report = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if device == "cuda":
        report["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
        report["gpu"] = torch.cuda.get_device_name()
    return report


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--img", type=int, default=112)
    ap.add_argument("--repeats", type=int, default=3)
    add_device_argument(ap)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = ViT(img=args.img).to(args.device)
    x = torch.randn(args.batch, 3, args.img, args.img, device=args.device)
    y = torch.randint(0, 7, (args.batch,), device=args.device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05)

    def forward():
        with torch.no_grad():
            model.features(x)

    def train_step():
        opt.zero_grad()
        loss = F.cross_entropy(model.head(model.features(x)[:, 0]), y)
        loss.backward()
        opt.step()

    fwd = timed(forward, args.repeats, args.device)
    step = timed(train_step, args.repeats, args.device)
    print(json.dumps({
        "engine": f"pytorch {torch.__version__} {args.device}, {args.threads} threads",
        "forward_images_per_s": args.batch / fwd,
        "train_step_images_per_s": args.batch / step,
        **memory_report(args.device),
    }))


if __name__ == "__main__":
    main()
