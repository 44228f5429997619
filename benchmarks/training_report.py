"""The report of ``bench_training.py``: its results as the Markdown tables of BENCHMARKS.md, and
the peak-memory model fitted to the scaling points."""

from __future__ import annotations

MEMORY_LIMIT_GIB = 24.0


def _fit_memory(points: list[dict], haps: int, variants: int) -> dict | None:
    """Peak RSS ≈ base + a · haplotypes · variants + b · variants, from the scaling points:
    a from the haplotype axis (5k variants), b from the variant axis (5k haplotypes)."""
    by_h = sorted((p for p in points if p["variants"] == variants), key=lambda p: p["haplotypes"])
    by_v = sorted((p for p in points if p["haplotypes"] == haps), key=lambda p: p["variants"])
    if len(by_h) < 2 or len(by_v) < 2:
        return None
    lo, hi = by_h[0], by_h[-1]
    a = (hi["peak_rss_mb"] - lo["peak_rss_mb"]) / ((hi["haplotypes"] - lo["haplotypes"]) * variants)
    lo, hi = by_v[0], by_v[-1]
    per_variant = (hi["peak_rss_mb"] - lo["peak_rss_mb"]) / (hi["variants"] - lo["variants"])
    b = per_variant - a * haps
    base = lo["peak_rss_mb"] - a * haps * lo["variants"] - b * lo["variants"]
    limit = MEMORY_LIMIT_GIB * 1024
    fits = {v: (limit - base - b * v) / (a * v) for v in (1_000, 5_000, 20_000, 100_000)}
    return {"base_mb": base, "mb_per_cell": a, "mb_per_variant": b, "max_haplotypes": fits}


def print_report(r: dict) -> None:
    s, f = r["side_by_side"], r["flops"]
    haps, variants = r["section"]["haplotypes"], r["section"]["variants"]
    d = r["defaults"]
    print("## Training\n")
    print(f"{r['date']}, {r['machine']}, Python {r['python']}, TensorFlow {r['tensorflow']}, "
          f"Keras {r['keras']}; load average {r['load_start']} → {r['load_end']}; "
          f"{r['seconds_total']:.0f} s in all.")  # fmt: skip
    print(f"Defaults measured: batch {d['batch_size']}, jit_compile {d['jit_compile']}, "
          f"steps_per_execution {d['steps_per_execution']}. Section {haps:,} haplotypes × "
          f"{variants:,} variants (80% = {r['section']['train_rows']:,} trained per epoch).\n")  # fmt: skip
    print("| measurement | value | reference | ratio | target | met |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    med = s["median"]
    print(f"| custom train_step epoch vs plain Keras functional + BCE | {med['custom']:.2f} s | "
          f"{med['plain']:.2f} s | {s['custom_vs_plain']:.2f}× | ≤ 1.10× | "
          f"{'yes' if s['custom_vs_plain'] <= 1.10 else 'no'} |")  # fmt: skip
    print(f"| re-encoding epoch vs plain custom epoch | {med['reencode']:.2f} s | "
          f"{med['custom']:.2f} s | {s['reencode_vs_custom']:.2f}× | ≤ 1.6× | "
          f"{'yes' if s['reencode_vs_custom'] <= 1.6 else 'no'} |")  # fmt: skip
    peak = max(f["matmul"].values())
    print(f"| training FLOP/s vs dense matmul FLOP/s | {f['achieved'] / 1e9:.1f} GFLOP/s | "
          f"{peak / 1e9:.1f} GFLOP/s | {f['fraction']:.0%} | ≥ 30% | "
          f"{'yes' if f['fraction'] >= 0.30 else 'no'} |\n")  # fmt: skip
    terms = " + ".join(f"6·{a}·{b}" for a, b in f["layer_shapes"])
    print(f"FLOPs per haplotype = {terms} = {f['flops_per_example'] / 1e6:.1f} MFLOP; "
          f"× {r['section']['train_rows']:,} rows = {f['epoch_flops'] / 1e9:.0f} GFLOP per epoch "
          f"/ {med['custom']:.2f} s = {f['achieved'] / 1e9:.1f} GFLOP/s "
          f"(plain model {f['achieved_plain'] / 1e9:.1f}). Matmul: "
          + ", ".join(f"{k} {v / 1e9:.1f} GFLOP/s" for k, v in f["matmul"].items())
          + ".\n")  # fmt: skip
    if "options" in r:
        print("| options (haplotypes × variants: batch, XLA, steps per execution) | s/epoch |")
        print("| --- | ---: |")
        for k, v in r["options"].items():
            print(f"| {k} | {v:.2f} |")
        print("\n| input pipeline, one pass, nothing trained | s/epoch |")
        print("| --- | ---: |")
        for k, v in r["pipelines"].items():
            print(f"| {k} | {v:.3f} |")
        print()
    if "scaling" in r:
        print("| haplotypes | variants | hidden | parameters | s/step | steps/epoch | s/epoch | "
              "GFLOP/s | peak RSS (MB) |")  # fmt: skip
        print("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for p in r["scaling"]:
            print(f"| {p['haplotypes']:,} | {p['variants']:,} | {p['hidden']} | {p['params']:,} | "
                  f"{p['seconds_per_step'] * 1e3:.1f} ms | {p['steps_per_epoch']} | "
                  f"{p['seconds_per_epoch']:.2f} | {p['gflops_per_s']:.1f} | "
                  f"{p['peak_rss_mb']:.0f} |")  # fmt: skip
        fit = _fit_memory(r["scaling"], haps, variants)
        if fit:
            r["memory_fit"] = fit
            print(f"\nPeak RSS ≈ {fit['base_mb']:.0f} MB + {fit['mb_per_cell'] * 1e6:.2f} B × "
                  f"haplotypes × variants + {fit['mb_per_variant'] * 1e3:.1f} kB × variants; "
                  f"fits in {MEMORY_LIMIT_GIB:.0f} GiB up to: "
                  + ", ".join(f"{v:,} variants → {h:,.0f} haplotypes"
                              for v, h in fit["max_haplotypes"].items()))  # fmt: skip
