#!/usr/bin/env python3
"""Turns Google Benchmark JSON into an SVG bar chart and a Markdown table.

    plot.py RESULTS.json OUT.svg [OUT.md]

One panel per benchmark family (the part of the name before '/'), one bar
per contender, each the median of the repetitions (real time; a latency
benchmark's one-way median instead, when it reports the counter
one_way_p50_us), labelled with its value and its ratio to the family's
first filemap entry. Standard library only.
"""
import json
import sys
from collections import OrderedDict
from html import escape


def medians(path):
    with open(path) as f:
        data = json.load(f)
    families = OrderedDict()
    for run in data["benchmarks"]:
        if run.get("aggregate_name") != "median":
            continue
        parts = run["run_name"].split("/")
        family = parts[0]
        contender = "/".join(p for p in parts[1:]
                             if not p.isdigit() and
                             not p.startswith(("iterations:", "repeats:", "min_time:", "real_time")))
        if "one_way_p50_us" in run:
            value = run["one_way_p50_us"] * 1e3
        else:
            value = run["real_time"] * {"ns": 1.0, "us": 1e3, "ms": 1e6}[run["time_unit"]]
        families.setdefault(family, []).append((contender, value))
    return data["context"], families


def fmt(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.1f} ms"
    return f"{ns / 1000:.2f} us" if ns >= 1000 else f"{ns:.1f} ns"


def ratio_to_filemap(entries):
    base = next((t for name, t in entries if name.startswith("filemap")), None)
    return {name: (t / base if base else None) for name, t in entries}


def svg(context, families):
    width, bar, gap, left = 860, 22, 6, 230
    rows = sum(len(v) + 2 for v in families.values())
    height = rows * (bar + gap) + 60
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="13">',
           f'<text x="10" y="22" font-size="15" font-weight="bold">filemap benchmarks: median '
           f'time per operation (shorter is better)</text>',
           f'<text x="10" y="40" fill="#555">{escape(context.get("host_name", ""))} · '
           f'{context.get("num_cpus")} CPUs @ {context.get("mhz_per_cpu")} MHz · '
           f'{escape(context.get("date", ""))}</text>']
    y = 60
    for family, entries in families.items():
        out.append(f'<text x="10" y="{y + 16}" font-weight="bold">{escape(family)}</text>')
        y += bar + gap
        longest = max(t for _, t in entries)
        ratios = ratio_to_filemap(entries)
        for name, t in entries:
            length = max(2, (width - left - 170) * t / longest)
            colour = "#2b7bba" if name.startswith("filemap") else "#9aa5b1"
            ratio = ratios[name]
            label = fmt(t) + (f"  ({ratio:.1f}x filemap)" if ratio and not name.startswith("filemap") else "")
            out.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{escape(name)}</text>')
            out.append(f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar}" fill="{colour}"/>')
            out.append(f'<text x="{left + length + 6:.1f}" y="{y + 16}">{escape(label)}</text>')
            y += bar + gap
        y += gap * 2
    out.append("</svg>")
    return "\n".join(out) + "\n"


def table(families):
    lines = ["| benchmark | contender | median | vs filemap |", "| --- | --- | --- | --- |"]
    for family, entries in families.items():
        ratios = ratio_to_filemap(entries)
        for name, t in entries:
            ratio = ratios[name]
            lines.append(f"| {family} | {name} | {fmt(t)} | "
                         f"{'' if ratio is None or name.startswith('filemap') else f'{ratio:.1f}x'} |")
    return "\n".join(lines) + "\n"


def main():
    context, families = medians(sys.argv[1])
    with open(sys.argv[2], "w") as f:
        f.write(svg(context, families))
    if len(sys.argv) > 3:
        with open(sys.argv[3], "w") as f:
            f.write(table(families))


if __name__ == "__main__":
    main()
