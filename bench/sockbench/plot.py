"""The plot: log-log wall time against socket count, written by hand as SVG
(bench/plot.svg)."""

import math

from .base import FILTER_PORT
from .report import summarize

PLOT_LINES = [
    # group, label, legend, colour, dash, marker
    ("-tan", "sockscope -tan", "sockscope -tan", "#d62728", "", "circle"),
    ("-tan", "ss -tan", "ss -tan", "#1f77b4", "", "circle"),
    ("-tan", "netstat -tan", "netstat -tan", "#2ca02c", "", "circle"),
    ("-tan", "cat /proc/net/tcp{,6}", "cat /proc/net/tcp{,6}", "#7f7f7f", "",
     "circle"),
    ("-tanp", "sockscope -tanp", "sockscope -tanp", "#d62728", "7,4",
     "square"),
    ("-tanp", "ss -tanp", "ss -tanp", "#1f77b4", "7,4", "square"),
    ("-tanp", "netstat -tanp", "netstat -tanp", "#2ca02c", "7,4", "square"),
    ("filtered", "sockscope filtered", "sockscope filtered", "#d62728",
     "2,3", "triangle"),
    ("filtered", "ss filtered", "ss filtered", "#1f77b4", "2,3",
     "triangle"),
    ("json", "sockscope -tan --json", "sockscope -tan --json", "#ff7f0e",
     "9,3,2,3", "diamond"),
    ("json", "ss -tan", "ss -tan (json group)", "#17becf", "9,3,2,3",
     "diamond"),
    ("-tan", "bare dump", "bare netlink dump (floor)", "#000000", "3,3",
     "cross"),
]


def _marker(kind, x, y, color, hollow=False):
    fill = "white" if hollow else color
    a = 'stroke="%s" stroke-width="1.5" fill="%s"' % (color, fill)
    if kind == "circle":
        return '<circle cx="%.1f" cy="%.1f" r="4" %s/>' % (x, y, a)
    if kind == "square":
        return '<rect x="%.1f" y="%.1f" width="7" height="7" %s/>' % (
            x - 3.5, y - 3.5, a)
    if kind == "triangle":
        return '<path d="M%.1f %.1f L%.1f %.1f L%.1f %.1f Z" %s/>' % (
            x, y - 5, x + 4.5, y + 3.5, x - 4.5, y + 3.5, a)
    if kind == "diamond":
        return '<path d="M%.1f %.1f L%.1f %.1f L%.1f %.1f L%.1f %.1f Z" %s/>' \
            % (x, y - 5, x + 5, y, x, y + 5, x - 5, y, a)
    return ('<path d="M%.1f %.1f L%.1f %.1f M%.1f %.1f L%.1f %.1f" '
            'stroke="%s" stroke-width="2"/>' % (
                x - 4, y - 4, x + 4, y + 4, x - 4, y + 4, x + 4, y - 4,
                color))


def _ticks(lo, hi):
    """1-2-5 ticks between lo and hi (log scale), or decades if wide."""
    out = []
    steps = (1, 2, 5) if math.log10(hi / lo) <= 3.5 else (1,)
    for e in range(int(math.floor(math.log10(lo))) - 1,
                   int(math.ceil(math.log10(hi))) + 1):
        for s in steps:
            v = s * 10.0 ** e
            if lo * 0.999 <= v <= hi * 1.001:
                out.append(v)
    return out


def _fmt_count(v):
    if v >= 1e6:
        return "%gM" % (v / 1e6)
    if v >= 1e3:
        return "%gk" % (v / 1e3)
    return "%g" % v


def _fmt_ms(v):
    if v >= 1000:
        return "%g s" % (v / 1000)
    return "%g ms" % v


def render_svg(results, args):
    W, H = 800, 500
    left, right, top, bottom = 68, 548, 46, 440
    budget_ms = args.run_timeout * 1000
    series = []
    for group, label, legend, color, dash, marker in PLOT_LINES:
        pts = []
        for r in results:
            g = r.get("groups", {}).get(group)
            if not g or label not in g["tools"]:
                continue
            s = summarize(g["tools"][label])
            if s.get("wall"):
                pts.append((r["size"], s["wall"] * 1000, False))
            elif s["status"] == "over_budget":
                pts.append((r["size"], budget_ms, True))
        if pts:
            series.append((legend, color, dash, marker, pts))
    allx = [p[0] for s in series for p in s[4]] or [1000, 100000]
    ally = [p[1] for s in series for p in s[4]] or [1, 1000]
    xlo, xhi = min(allx) / 1.35, max(allx) * 1.35
    ylo = 10 ** math.floor(math.log10(min(ally) / 1.2))
    yhi = 10 ** math.ceil(math.log10(max(ally) * 1.2))

    def X(v):
        return left + (math.log10(v) - math.log10(xlo)) / (
            math.log10(xhi) - math.log10(xlo)) * (right - left)

    def Y(v):
        return bottom - (math.log10(v) - math.log10(ylo)) / (
            math.log10(yhi) - math.log10(ylo)) * (bottom - top)

    o = []
    a = o.append
    a('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
      'viewBox="0 0 %d %d" font-family="DejaVu Sans, Helvetica, Arial, '
      'sans-serif" font-size="12">' % (W, H, W, H))
    a('<rect width="%d" height="%d" fill="white"/>' % (W, H))
    a('<text x="%d" y="24" font-size="15" font-weight="bold">Wall time '
      '(median of %d runs) against socket count, log-log</text>'
      % (left, args.runs))
    for v in _ticks(ylo, yhi):
        y = Y(v)
        major = abs(math.log10(v) - round(math.log10(v))) < 1e-9
        a('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>' % (
            left, y, right, y, "#d0d0d0" if major else "#ececec"))
        a('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (
            left - 6, y + 4, _fmt_ms(v)))
    sizes = sorted({p[0] for s in series for p in s[4]})
    for v in _ticks(xlo, xhi):  # 1-2-5 grid
        a('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ececec"/>' % (
            X(v), top, X(v), bottom))
    for v in sizes:  # the measured sizes, labelled
        x = X(v)
        a('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#c8c8c8"/>' % (
            x, top, x, bottom))
        a('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/>' % (
            x, bottom, x, bottom + 5))
        a('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (
            x, bottom + 18, _fmt_count(v)))
    a('<rect x="%d" y="%d" width="%d" height="%d" fill="none" '
      'stroke="#333"/>' % (left, top, right - left, bottom - top))
    a('<text x="%d" y="%d" text-anchor="middle">sockets in the namespace '
      '(TCP + UDP)</text>' % ((left + right) // 2, bottom + 36))
    a('<text x="16" y="%d" text-anchor="middle" transform="rotate(-90 16 %d)"'
      '>wall time per run</text>' % ((top + bottom) // 2,
                                      (top + bottom) // 2))
    if any(p[2] for s in series for p in s[4]):
        a('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#999" '
          'stroke-dasharray="1,3"/>' % (left, Y(budget_ms), right,
                                        Y(budget_ms)))
        a('<text x="%d" y="%.1f" fill="#666" font-size="10">per-run budget'
          '</text>' % (left + 4, Y(budget_ms) - 4))
    over = {}  # size -> number of over-budget markers drawn there
    for legend, color, dash, marker, pts in series:
        real = [(X(x), Y(y)) for x, y, h in pts if not h]
        if len(real) > 1:
            a('<polyline points="%s" fill="none" stroke="%s" '
              'stroke-width="1.8"%s/>' % (
                  " ".join("%.1f,%.1f" % p for p in real), color,
                  ' stroke-dasharray="%s"' % dash if dash else ""))
        prev = None
        for x, y, hollow in pts:
            px = X(x)
            if hollow:  # side by side, linked to the last real point
                px += 9 * over.get(x, 0)
                over[x] = over.get(x, 0) + 1
                if prev is not None:
                    a('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" '
                      'stroke="%s" stroke-width="1" stroke-dasharray="1,3"/>'
                      % (prev[0], prev[1], px, Y(y), color))
            else:
                prev = (px, Y(y))
            a(_marker(marker, px, Y(y), color, hollow))
    ly = top + 4
    lx = right + 18
    a('<text x="%d" y="%d" font-weight="bold">command</text>' % (lx, ly))
    ly += 8
    for legend, color, dash, marker, pts in series:
        ly += 19
        a('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" '
          'stroke-width="1.8"%s/>' % (lx, ly - 4, lx + 30, ly - 4, color,
                                      ' stroke-dasharray="%s"' % dash
                                      if dash else ""))
        a(_marker(marker, lx + 15, ly - 4, color))
        a('<text x="%d" y="%d">%s</text>' % (lx + 38, ly, _xml(legend)))
    ly += 26
    notes = ["filtered: -tan state established", "  sport = :%d" % FILTER_PORT]
    if any(p[2] for s in series for p in s[4]):
        notes += ["hollow marker: over the per-run",
                  "  budget (%g s), drawn at it" % args.run_timeout]
    for n in notes:
        a('<text x="%d" y="%d" font-size="10" fill="#555" '
          'xml:space="preserve">%s</text>' % (lx, ly, _xml(n)))
        ly += 13
    a("</svg>")
    return "\n".join(o) + "\n"


def _xml(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
