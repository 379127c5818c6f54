#!/usr/bin/env python3
"""bench/prom_histogram.py — one Prometheus histogram's increase between two scrapes.

    prom_histogram.py NAME BEFORE AFTER [LABEL=VALUE ...]

BEFORE and AFTER are two saved /actuator/prometheus texts. Prints one line

    count=<N> p99_ms=<upper bound of the p99 bucket, in ms, or +Inf or -> mean_ms=<sum/count in ms or ->

computed over the increase of NAME_bucket / NAME_count / NAME_sum from BEFORE to AFTER (the
observations made in between): p99 is the upper bound of the first bucket whose cumulative
increase reaches 99 % of the count's increase. Series with labels other than `le` are summed;
LABEL=VALUE arguments keep only the series that carry all of those labels with those values.
"""
import math
import re
import sys

# Label values may hold braces (uri="/api/orders/{orderId}"), so a label set is matched quoted-aware.
SAMPLE = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(\{(?:[^}"]|"(?:[^"\\]|\\.)*")*\})?\s+(\S+)')
LE = re.compile(r'le="([^"]*)"')


def selected(labels, wanted):
    return all(f'{k}="{v}"' in labels for k, v in wanted)


def parse(path, name, wanted=()):
    buckets, count, total = {}, 0.0, 0.0
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = SAMPLE.match(line)
            if not m:
                continue
            metric, labels, value = m.group(1), m.group(2) or "", float(m.group(3))
            if not selected(labels, wanted):
                continue
            if metric == name + "_bucket":
                le = LE.search(labels)
                if le:
                    bound = math.inf if le.group(1) == "+Inf" else float(le.group(1))
                    buckets[bound] = buckets.get(bound, 0.0) + value
            elif metric == name + "_count":
                count += value
            elif metric == name + "_sum":
                total += value
    return buckets, count, total


def main():
    if len(sys.argv) < 4 or any("=" not in a for a in sys.argv[4:]):
        sys.exit(__doc__)
    name = sys.argv[1]
    wanted = [tuple(a.split("=", 1)) for a in sys.argv[4:]]
    b0, c0, s0 = parse(sys.argv[2], name, wanted)
    b1, c1, s1 = parse(sys.argv[3], name, wanted)
    if not b1:
        sys.exit(f"prom_histogram.py: no {name}_bucket samples in {sys.argv[3]}")
    count = c1 - c0
    if count <= 0:
        print("count=0 p99_ms=- mean_ms=-")
        return
    p99 = "-"
    for bound in sorted(b1):
        if b1[bound] - b0.get(bound, 0.0) >= 0.99 * count:
            p99 = "+Inf" if math.isinf(bound) else f"{bound * 1000:g}"
            break
    print(f"count={count:.0f} p99_ms={p99} mean_ms={(s1 - s0) / count * 1000:.3f}")


if __name__ == "__main__":
    main()
