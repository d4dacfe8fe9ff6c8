"""Plain-text renderings of agreement and study results for the terminal (JSON has everything)."""

from __future__ import annotations

from typing import Any


def _f(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def render_agreement(summary: dict[str, Any], indent: str = "") -> str:
    lines = [f"{indent}{summary['n_raters']} raters, {summary['n_items']} items, {summary['n_ratings']} ratings; "
             f"labels: {', '.join(summary['labels'])}"]
    for p in summary["cohen_kappa_pairwise"]:
        lines.append(f"{indent}  Cohen's kappa {p['rater_a']} vs {p['rater_b']}: {_f(p['kappa'])} "
                     f"(agreement {_f(p['percent_agreement'])}, {p['n_items']} items)")
    fleiss = summary["fleiss_kappa"]
    lines.append(f"{indent}  mean Cohen's kappa: {_f(summary['cohen_kappa_mean'])}")
    per_item = fleiss.get("ratings_per_item", fleiss["n_raters"])
    rated_by = f"all {per_item}" if per_item == fleiss["n_raters"] else f"{per_item} of the {fleiss['n_raters']}"
    lines.append(f"{indent}  Fleiss' kappa: {_f(fleiss['kappa'])} ({fleiss['n_items']} items rated by {rated_by} "
                 f"raters, {fleiss['n_items_dropped']} left out)")
    lines.append(f"{indent}  Krippendorff's alpha (nominal): {_f(summary['krippendorff_alpha'])}")
    note = (summary.get("design") or {}).get("note")
    if note:
        lines.append(f"{indent}  ({note})")
    return "\n".join(lines)


def _share(entry: dict[str, Any]) -> str:
    low, high = entry["ci"]
    ci = f" [{_f(low, 2)}, {_f(high, 2)}]" if low is not None else ""
    return f"{_f(entry['share'], 2)}{ci} ({entry['votes']} votes)"


def render_results(summary: dict[str, Any]) -> str:
    lines = [f"study {summary['study']}: {summary['items']} items, raters: {', '.join(summary['raters']) or 'none'}"]
    if "dimensions" in summary:
        for dim, entry in summary["dimensions"].items():
            lines.append(f"\n[{dim}] {entry['votes']} votes on {entry['items_voted']} items; share (95% CI):")
            lines += [f"  {option}: {_share(s)}" for option, s in entry["shares"].items()]
            if entry["agreement"]:
                lines.append(render_agreement(entry["agreement"], indent="  "))
            for judge, j in (entry.get("judges") or {}).get("vs_human_majority", {}).items():
                lines.append(f"  judge {judge} vs human majority: agreement {_f(j['agreement'])}, "
                             f"kappa {_f(j['cohen_kappa'])} on {j['items']} items "
                             f"({j['no_human_majority']} without majority, {j['unscored_by_judge']} unscored)")
        return "\n".join(lines)
    lines.append(f"{summary['marks']} criterion marks; {summary['no_expert_majority']} without an expert majority")
    if summary["agreement"]:
        lines.append(render_agreement(summary["agreement"], indent="  "))
    for judge, j in summary["judges"].items():
        lines.append(f"judge {judge}: accuracy {_f(j['accuracy'])} on {j['marks_compared']} marks "
                     f"({j['not_judged']} not judged)")
        lines += [f"  {d}: {_f(v['accuracy'])} ({v['marks']} marks)" for d, v in j["per_dimension"].items()]
    return "\n".join(lines)
