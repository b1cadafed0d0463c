"""Write src/ranvis/data/imagenet_top1.csv: ImageNet-1k top-1 of architectures trained on
ImageNet-1k alone (ranvis.study.trained reads it).

    python scripts/imagenet_top1.py RESULTS_CSV COMMIT DATE > src/ranvis/data/imagenet_top1.csv

RESULTS_CSV: timm's results/results-imagenet.csv (pytorch-image-models at COMMIT, dated DATE).
Per timm architecture, the highest top-1 among its pretrained tags trained on ImageNet-1k only
(a tag is left out when one of its ``_``-separated words names more data or a teacher: in21k,
in22k, in12k, laion2b, openai, clip, ig1b, jft, ns (noisy student), ssl, swsl, ssld, dist,
m38m, yfcc100m, …; a model whose name says ``distilled`` is left out too). The architectures of
ranvis's own registry (vgg11 … convnext_tiny) get torchvision's documented acc@1 of their best
``IMAGENET1K_*`` weights (the ``_meta`` of the installed torchvision's weight enums).
"""
from __future__ import annotations

import csv
import re
import sys

EXCLUDE = {"in21k", "in22k", "in12k", "in22ft1k", "laion2b", "laion400m", "laion", "openai",
           "clip", "ig1b", "ig3b", "ig", "ssl", "swsl", "jft", "jft300m", "ns", "dist", "ssld",
           "m38m", "m30m", "merged", "yfcc100m", "cc12m", "datacomp", "dfn2b", "dfn5b",
           "metaclip", "6m", "kd", "distill", "distilled"}
TORCHVISION = {"vgg11": "VGG11", "vgg13": "VGG13", "vgg16": "VGG16", "vgg19": "VGG19",
               "alexnet": "AlexNet", "resnet18": "ResNet18", "resnet50": "ResNet50",
               "convnext_tiny": "ConvNeXt_Tiny"}
FAMILIES = [  # (regex on the architecture name, family), first match wins
    (r"^vgg", "VGG"), (r"^(resnext|seresnext|ecaresnext|skresnext)", "ResNeXt"),
    (r"^(wide_)?resnet|^(se|eca|sk)?resnet|^resnetblur|^resnetaa", "ResNet"),
    (r"^regnet", "RegNet"), (r"^densenet", "DenseNet"),
    (r"^(tf_)?efficientnet|^efficientnetv2|^tf_efficientnetv2", "EfficientNet"),
    (r"^(tf_)?mobilenet", "MobileNet"), (r"^(mnasnet|semnasnet|tf_mnasnet)", "MNASNet"),
    (r"^ghostnet", "GhostNet"), (r"^convnext", "ConvNeXt"),
    (r"^(inception|adv_inception|ens_adv_inception|gluon_inception|tf_inception)", "Inception"),
    (r"xception", "Xception"), (r"^alexnet", "AlexNet"), (r"^repvgg", "RepVGG"),
    (r"^dla", "DLA"), (r"^dpn", "DPN"), (r"^res2ne", "Res2Net"), (r"^(cs|darknet|cspdark)", "CSP"),
    (r"^(mixnet|tf_mixnet)", "MixNet"), (r"^rexnet", "ReXNet"), (r"^(ese_)?vovnet", "VoVNet"),
    (r"^hrnet", "HRNet"), (r"^(fbnet|spnasnet|lcnet|tinynet|hardcorenas)", "NAS-mobile"),
    (r"^selecsls", "SelecSLS"), (r"^(vit|deit|beit|eva|swin|cait|xcit)", "Transformer"),
]


def family(name: str) -> str:
    """The family of an architecture name (FAMILIES), else its leading letters."""
    for pattern, fam in FAMILIES:
        if re.search(pattern, name):
            return fam
    return re.match(r"[a-z]+", name).group(0) if re.match(r"[a-z]+", name) else name


def in1k_only(model: str) -> bool:
    """Whether a timm ``arch.tag`` was trained on ImageNet-1k alone (module doc)."""
    arch, _, tag = model.partition(".")
    words = set(re.split(r"[_\-]", tag))
    # BEiT v2 learns from a CLIP teacher's tokens: distillation from larger data
    return "in1k" in words and not words & EXCLUDE and "distilled" not in arch \
        and not arch.startswith("beitv2")


def timm_rows(path: str) -> dict[str, dict[str, str]]:
    best: dict[str, dict[str, str]] = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if not in1k_only(r["model"]):
                continue
            arch = r["model"].partition(".")[0]
            if arch not in best or float(r["top1"]) > float(best[arch]["top1"]):
                best[arch] = r
    return best


def torchvision_rows() -> dict[str, tuple[float, str]]:
    from ranvis.nets._torchvision import import_torchvision

    models = import_torchvision().models
    out = {}
    for arch, enum in TORCHVISION.items():
        weights = getattr(models, f"{enum}_Weights")
        cands = [(w.meta["_metrics"]["ImageNet-1K"]["acc@1"], w.name) for w in weights
                 if w.name.startswith("IMAGENET1K")]
        out[arch] = max(cands)
    return out


def main(argv: list[str]) -> None:
    path, commit, date = argv
    w = csv.writer(sys.stdout, lineterminator="\n")
    print("# ImageNet-1k top-1 (%) of architectures trained on ImageNet-1k alone; made by "
          "scripts/imagenet_top1.py")
    print(f"# timm:NAME rows: timm's results/results-imagenet.csv (huggingface/"
          f"pytorch-image-models at {commit[:12]}, {date}), best in1k-only tag per architecture "
          f"(tags of larger data or distillation left out), evaluated at img_size")
    print("# other rows: torchvision 0.28.0's documented acc@1 (weights enums' _meta), best "
          "IMAGENET1K_* weights")
    w.writerow(["arch", "family", "top1", "tag", "img_size", "source"])
    for arch, (acc, name) in torchvision_rows().items():
        w.writerow([arch, family(arch), f"{acc:.3f}", name, 224, "torchvision"])
    for arch, r in sorted(timm_rows(path).items()):
        w.writerow([f"timm:{arch}", family(arch), r["top1"], r["model"].partition(".")[2],
                    r["img_size"], "timm"])


if __name__ == "__main__":
    main(sys.argv[1:])
