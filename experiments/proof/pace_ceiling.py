"""How well can the pace of a benchmark clip be read at all? Two ideal readers, exact integrals.

A clip of class ``c`` at pace ``p`` moves at ``v = p * s_c * u`` (``s_c``: the class's ladder
factor, ``u`` uniform in ``1 +- SPEED_SPREAD``, per video; ``pacepred.data.synthetic``). A reader
that measures ``v`` exactly but does not know the class picks the pace that explains ``v`` best
over all classes (the Bayes decision, uniform priors); one that also knows the class picks it
from ``v / s_c``. Classes without object motion (``Static``) show no pace: both readers guess
there (1 / number of paces). The network's validation pace accuracy (``proof.json``) is to be read
against these two numbers.

    python experiments/proof/pace_ceiling.py [--num-paces 4] [--class-set kinds] [--uniform]

(``pace_set=fast``, the proof's: paces 1..N.)
"""

from __future__ import annotations

import argparse

import numpy as np

from pacepred.data.pace import fast_paces
from pacepred.data.synthetic import CLASS_SETS, SPEED_SPREAD


def speed_intervals(factors: list[float], paces: list[float]) -> np.ndarray:
    """(C, P, 2) the range of speeds (in BASE_SPEED units) of class c at pace p."""
    centre = np.outer(factors, paces)
    return np.stack([centre * (1 - SPEED_SPREAD), centre * (1 + SPEED_SPREAD)], axis=-1)


def class_blind_accuracy(intervals: np.ndarray) -> float:
    """Bayes accuracy of the pace from the speed alone, uniform over (class, pace): the integral of
    max_p sum_c density(v | c, p) / (C * P) over v, exact on the pieces between interval ends."""
    classes, paces = intervals.shape[:2]
    density = 1.0 / (intervals[..., 1] - intervals[..., 0])  # (C, P), uniform within its interval
    ends = np.unique(intervals)
    total = 0.0
    for low, high in zip(ends[:-1], ends[1:]):
        middle = (low + high) / 2
        inside = (intervals[..., 0] <= middle) & (middle < intervals[..., 1])
        per_pace = (density * inside).sum(axis=0)  # (P,)
        total += per_pace.max() * (high - low)
    return total / (classes * paces)


def class_aware_accuracy(intervals: np.ndarray) -> float:
    """Bayes accuracy when the class is known: 1 where a class's pace intervals do not overlap."""
    return float(np.mean([class_blind_accuracy(intervals[c : c + 1]) for c in range(intervals.shape[0])]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-paces", type=int, default=4)
    parser.add_argument("--class-set", default="kinds", choices=sorted(CLASS_SETS))
    parser.add_argument("--uniform", action="store_true", help="class_speeds=uniform (every class at 1.0)")
    args = parser.parse_args()
    names, ladder = CLASS_SETS[args.class_set]
    paces = [float(p) for p in fast_paces(args.num_paces)]
    moving = [name for name in names if name != "Static"]
    factors = [1.0 if args.uniform else ladder[name] for name in moving]
    intervals = speed_intervals(factors, paces)
    still = (len(names) - len(moving)) / len(names)  # share of clips that show no pace

    def overall(moving_accuracy: float) -> float:
        return (1 - still) * moving_accuracy + still / len(paces)

    blind, aware = class_blind_accuracy(intervals), class_aware_accuracy(intervals)
    speeds = "uniform" if args.uniform else "ladder"
    print(f"class_set={args.class_set} class_speeds={speeds} paces={paces} (+-{SPEED_SPREAD:.0%} per video, "
          f"{still:.0%} of clips without object motion)")
    print("| reader | pace accuracy, moving classes | pace accuracy, all clips |")
    print("|---|---|---|")
    print(f"| measures the speed, class unknown | {100 * blind:.1f} | {100 * overall(blind):.1f} |")
    print(f"| measures the speed, class known | {100 * aware:.1f} | {100 * overall(aware):.1f} |")
    print(f"| chance | {100 / len(paces):.1f} | {100 / len(paces):.1f} |")


if __name__ == "__main__":
    main()
