"""Per-window ratios of bench/scripts/windows.sh's output against its first variant: the median over the rounds of
each window's ratio, and of the ratio of whole runs and of their first three windows (the start-up transient)."""
import statistics as st
import sys


def rounds(path):
    out, cur = [], {}
    for line in open(path):
        if line.startswith('#'):
            if cur:
                out.append(cur)
            cur = {}
            continue
        parts = line.split()
        if len(parts) == 2 and parts[1] != 'FAILED':
            cur[parts[0]] = [float(x) for x in parts[1].split(',')]
    if cur:
        out.append(cur)
    return out


def main(path):
    rs = rounds(path)
    names = list(rs[0])
    base = names[0]
    paired = [r for r in rs if base in r]
    windows = len(paired[0][base])
    print(f'{len(rs)} rounds, baseline {base}')
    for n in names:
        med = [st.median(r[n][k] for r in rs if n in r) for k in range(windows)]
        print(f'{n:14s} Mops/s per window', ' '.join(f'{x:5.1f}' for x in med))
    for n in names[1:]:
        both = [r for r in paired if n in r]
        per = [st.median(r[n][k] / r[base][k] for r in both) for k in range(windows)]
        whole = st.median(st.median(r[n]) / st.median(r[base]) for r in both)
        first3 = st.median(st.median(r[n][:3]) / st.median(r[base][:3]) for r in both)
        print(f'{n:14s} / {base} per window', ' '.join(f'{x:5.2f}' for x in per),
              f' | windows 1-3 {first3:.3f}  all {whole:.3f}')


if __name__ == '__main__':
    main(sys.argv[1])
