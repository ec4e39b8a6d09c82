// Renders the book's mathematics with the KaTeX copy in src/katex (no network), then records on
// <html> what the headless-browser check (book/check-rendered.sh) reads: how many formulas
// rendered, how many failed, how many images did not load, and which elements stick out of the
// text column without a scroll bar of their own.
//
// Display math is written $$ ... $$. Inline math is written as a code span holding $ ... $
// (`$\omega = 2\pi/\tau$`): markdown leaves code spans alone, so underscores and asterisks in
// the TeX need no escaping, and this script typesets every such span in place.
(function () {
    function renderInline(main) {
        var failed = 0;
        main.querySelectorAll("code").forEach(function (code) {
            var text = code.textContent;
            if (code.closest("pre") || text.length < 3 || text[0] !== "$" || text[text.length - 1] !== "$") {
                return;
            }
            var span = document.createElement("span");
            span.className = "inline-math";
            try {
                katex.render(text.slice(1, -1), span, { throwOnError: true, displayMode: false });
                code.replaceWith(span);
            } catch (e) {
                failed += 1;
            }
        });
        return failed;
    }

    function insideScroller(element, main) {
        for (var parent = element.parentElement; parent && parent !== main; parent = parent.parentElement) {
            var overflow = getComputedStyle(parent).overflowX;
            if (overflow === "auto" || overflow === "scroll") { return true; }
        }
        return false;
    }

    // Elements whose right edge passes the text column's and that no scrolling box holds.
    function overflowing(main) {
        var limit = main.getBoundingClientRect().right + 1;
        var found = [];
        main.querySelectorAll("*").forEach(function (element) {
            var box = element.getBoundingClientRect();
            // KaTeX's MathML copy for screen readers is clipped out of sight, and its drawn
            // symbols (the root sign, long arrows) are wide SVGs clipped by KaTeX's own boxes:
            // neither is what a reader sees sticking out.
            if (element.closest(".katex-mathml")) { return; }
            if (element.closest(".katex") && element.closest("svg")) { return; }
            if (box.width > 0 && box.right > limit && !insideScroller(element, main)) {
                var scroller = getComputedStyle(element).overflowX;
                if (scroller === "auto" || scroller === "scroll") { return; }
                found.push(element.tagName.toLowerCase() + "." + (element.className || "").toString().split(" ")[0]);
            }
        });
        if (document.documentElement.scrollWidth > window.innerWidth + 1) { found.push("page"); }
        return found;
    }

    function check() {
        var root = document.documentElement;
        var main = document.querySelector("main") || document.body;
        var failed = 0;
        if (window.renderMathInElement && window.katex) {
            renderMathInElement(main, {
                delimiters: [
                    { left: "$$", right: "$$", display: true },
                    { left: "\\(", right: "\\)", display: false }
                ],
                throwOnError: false,
                errorCallback: function () { failed += 1; }
            });
            failed += renderInline(main);
        } else {
            failed = -1;
        }
        var broken = 0;
        main.querySelectorAll("img").forEach(function (img) {
            if (!img.complete || img.naturalWidth === 0) { broken += 1; }
        });
        var wide = overflowing(main);
        root.setAttribute("data-math-rendered", String(document.querySelectorAll(".katex").length));
        root.setAttribute("data-math-errors", String(failed + document.querySelectorAll(".katex-error").length));
        root.setAttribute("data-broken-images", String(broken));
        root.setAttribute("data-overflow", String(wide.length));
        root.setAttribute("data-overflow-where", wide.slice(0, 5).join(" "));
    }
    if (document.readyState === "complete") { check(); } else { window.addEventListener("load", check); }
})();
