// Renders the book's mathematics with the KaTeX copy in theme/katex (no network), then records
// on <html> how many formulas rendered, how many failed and how many images did not load, for
// the headless-browser check in book/check-rendered.sh.
(function () {
    function check() {
        var root = document.documentElement;
        var failed = 0;
        if (window.renderMathInElement) {
            renderMathInElement(document.querySelector("main") || document.body, {
                delimiters: [
                    { left: "$$", right: "$$", display: true },
                    { left: "\\(", right: "\\)", display: false }
                ],
                throwOnError: false,
                errorCallback: function () { failed += 1; }
            });
        } else {
            failed = -1;
        }
        var broken = 0;
        document.querySelectorAll("main img").forEach(function (img) {
            if (!img.complete || img.naturalWidth === 0) { broken += 1; }
        });
        root.setAttribute("data-math-rendered", String(document.querySelectorAll(".katex").length));
        root.setAttribute("data-math-errors", String(failed + document.querySelectorAll(".katex-error").length));
        root.setAttribute("data-broken-images", String(broken));
    }
    if (document.readyState === "complete") { check(); } else { window.addEventListener("load", check); }
})();
