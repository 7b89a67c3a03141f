"""PyTorch reference (CPU, or CUDA with --device cuda) for bench/pretrain-throughput: one MAE step.

A ViT encoder over the visible 25% of patches, a light decoder (width 128, depth 2) over all
patches with mask tokens, normalised-pixel MSE on masked patches, AdamW. Prints one JSON object
with images/s and peak memory. Needs only Debian's python3-torch on CPU; shapes match mae.ts.
"""
import argparse, json
import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_vit_reference import Block, add_device_argument, memory_report, timed


class MAE(nn.Module):
    def __init__(self, img=112, patch=16, dim=192, depth=12, heads=3, dec_dim=128, dec_depth=2, dec_heads=4):
        super().__init__()
        self.patch, self.n = patch, (img // patch) ** 2
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, self.n + 1, dim))
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.decoder_embed = nn.Linear(dim, dec_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dec_dim))
        self.decoder_pos_embed = nn.Parameter(torch.zeros(1, self.n + 1, dec_dim), requires_grad=False)
        self.decoder_blocks = nn.ModuleList([Block(dec_dim, dec_heads) for _ in range(dec_depth)])
        self.decoder_norm = nn.LayerNorm(dec_dim, eps=1e-6)
        self.decoder_pred = nn.Linear(dec_dim, patch * patch * 3)

    def patchify(self, x):
        b, c, h, w = x.shape
        p = self.patch
        return x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5).reshape(b, self.n, c * p * p)

    def forward(self, x, ratio=0.75):
        b = x.shape[0]
        tokens = self.patch_embed(x).flatten(2).transpose(1, 2) + self.pos_embed[:, 1:]
        keep = int(self.n * (1 - ratio))
        ids_shuffle = torch.argsort(torch.rand(b, self.n, device=x.device), dim=1)
        ids_restore = torch.argsort(ids_shuffle, dim=1)
        visible = torch.gather(tokens, 1, ids_shuffle[:, :keep, None].expand(-1, -1, tokens.shape[2]))
        mask = torch.ones(b, self.n, device=x.device)
        mask[:, :keep] = 0
        mask = torch.gather(mask, 1, ids_restore)
        h = torch.cat([(self.cls_token + self.pos_embed[:, :1]).expand(b, -1, -1), visible], 1)
        for blk in self.blocks:
            h = blk(h)
        h = self.decoder_embed(self.norm(h))
        mask_tokens = self.mask_token.expand(b, self.n - keep, -1)
        full = torch.cat([h[:, 1:], mask_tokens], 1)
        full = torch.gather(full, 1, ids_restore[:, :, None].expand(-1, -1, full.shape[2]))
        d = torch.cat([h[:, :1], full], 1) + self.decoder_pos_embed
        for blk in self.decoder_blocks:
            d = blk(d)
        pred = self.decoder_pred(self.decoder_norm(d))[:, 1:]
        target = self.patchify(x)
        target = (target - target.mean(-1, keepdim=True)) / (target.var(-1, keepdim=True) + 1e-6) ** 0.5
        return (((pred - target) ** 2).mean(-1) * mask).sum() / mask.sum()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    add_device_argument(ap)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = MAE().to(args.device)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.05)
    x = torch.randn(args.batch, 3, 112, 112, device=args.device)

    def step():
        opt.zero_grad()
        model(x).backward()
        opt.step()

    seconds = timed(step, args.repeats, args.device)
    print(json.dumps({
        "engine": f"pytorch {torch.__version__} {args.device}, {args.threads} threads",
        "mae_step_images_per_s": args.batch / seconds,
        **memory_report(args.device),
    }))


if __name__ == "__main__":
    main()
