"""Page shell shared by the HTML reports: plotly.js inlined once, no network access at all."""

from __future__ import annotations

import html

# Records script errors and counts drawn figures into attributes of <html>, so a headless
# browser (the report test) can read the outcome from the DOM alone.
_SELF_CHECK = """
window.__reportErrors = [];
window.addEventListener('error', function (e) { window.__reportErrors.push(String(e.message)); });
(function () {
  var orig = console.error;
  console.error = function () {
    window.__reportErrors.push(Array.prototype.join.call(arguments, ' '));
    return orig.apply(console, arguments);
  };
})();
window.addEventListener('load', function () {
  setTimeout(function () {
    var root = document.documentElement;
    var plots = document.querySelectorAll('.js-plotly-plot');
    var drawn = 0;
    plots.forEach(function (p) { if (p.querySelector('.main-svg')) { drawn += 1; } });
    root.setAttribute('data-figures-expected', root.getAttribute('data-n-figures'));
    root.setAttribute('data-figures-found', String(plots.length));
    root.setAttribute('data-figures-drawn', String(drawn));
    root.setAttribute('data-errors', JSON.stringify(window.__reportErrors));
    root.setAttribute('data-checked', 'yes');
  }, 500);
});
"""

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
       max-width: 1200px; padding: 1rem 2rem 4rem; color: #222; line-height: 1.45; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .9rem; width: 100%; }
th, td { border: 1px solid #ddd; padding: .3rem .5rem; vertical-align: top; text-align: left; }
th { background: #f4f6f8; } .muted { color: #777; font-size: .8rem; }
ul.summary li { margin: .3rem 0; } pre { background: #f7f7f7; padding: .8rem; overflow: auto; }
.anchor { margin-bottom: 1.5rem; }
"""


def page(title: str, intro: str, body: str, *, n_figures: int) -> str:
    """A complete HTML document with plotly.js embedded once in <head>.

    Args:
        title: page title and heading.
        intro: one paragraph under the heading (plain text, escaped here).
        body: HTML of the sections (figures as ``fig.to_html(include_plotlyjs=False)``).
        n_figures: figures in ``body``; the self-check compares it with the drawn ones.
    """
    from plotly.offline import get_plotlyjs

    return (
        f'<!DOCTYPE html>\n<html lang="en" data-n-figures="{n_figures}">\n<head>\n'
        f'<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
        f"<script>{_SELF_CHECK}</script>\n"
        f'<script type="text/javascript">{get_plotlyjs()}</script>\n'
        f"<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n<p>{html.escape(intro)}</p>\n{body}\n"
        "</body>\n</html>\n"
    )
