"""The picture of RESULTS.md: apply's wall time against --parallelism, with the limit as a line.

matplotlib is a bench-only extra (`pip install -e '.[bench]'`); without it no
picture is drawn and RESULTS.md says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

PICTURE = Path(__file__).resolve().parent / "apply-parallelism.png"


def draw_apply(path: Path, *, widths: Sequence[int], kfsync: Mapping[int, float],
               limit: Mapping[int, float], floor: Mapping[int, float], sequential: float | None,
               latency_ms: int, accounts: int, target: float) -> bool:
    """Draw it to `path`; False when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter
    except ImportError:
        return False
    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=110)
    xs = list(widths)
    axes.plot(xs, [limit[p] for p in xs], "-", color="#444444", label="limit (network only)")
    axes.plot(xs, [target * limit[p] for p in xs], "-", color="#bbbbbb",
              label=f"target: {target:g} × limit")
    axes.plot(xs, [floor[p] for p in xs if p in floor], "s--", color="#6b8e23",
              label="minimal concurrent client, same calls")
    axes.plot(xs, [kfsync[p] for p in xs], "o-", color="#1f5fa8", linewidth=2,
              label="kfsync apply (with its verification)")
    if sequential is not None:
        axes.axhline(sequential, color="#b03a2e", linestyle=":",
                     label=f"sequential requests script ({sequential:.1f} s)")
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_xticks(xs, [str(p) for p in xs])
    seconds = FuncFormatter(lambda value, _: f"{value:g}")
    axes.yaxis.set_major_formatter(seconds)
    axes.yaxis.set_minor_formatter(seconds)
    axes.set_xlabel("--parallelism")
    axes.set_ylabel("wall time (s)")
    axes.set_title(f"apply of {accounts} new accounts ({3 * accounts} writes), "
                   f"L = {latency_ms} ms, handshakes 2L")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return True
