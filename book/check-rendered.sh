#!/usr/bin/env bash
# Opens every built chapter of the book in headless Chromium at a desktop width (1280 px) and a
# phone width (420 px) and fails if a formula is left unrendered (raw `$$` or `\(` in the page
# text, or an inline `$...$` code span), KaTeX reported an error, the page's math script did not
# run, an image did not load, or an element sticks out of the text column without a scroll bar
# of its own. Run after `mdbook build book`.
set -euo pipefail
cd "$(dirname "$0")"
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "check-rendered: chromium not found (apt-get install chromium)" >&2
    exit 1
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
failures=0
for width in 1280 420; do
    for page in book/*.html; do
        case "$(basename "$page")" in print.html|toc.html|404.html) continue ;; esac
        dom=$("$browser" --headless --no-sandbox --disable-gpu --allow-file-access-from-files \
            --disable-background-networking --disable-component-update --disable-sync --no-first-run \
            --user-data-dir="$profile" --window-size="$width,1000" \
            --virtual-time-budget=10000 --dump-dom "file://$PWD/$page" 2>/dev/null)
        main=$(printf '%s' "$dom" | sed -n '/<main/,/<\/main>/p' | sed -e 's/<annotation[^>]*>[^<]*<\/annotation>//g' -e 's/<script[^>]*>.*<\/script>//g')
        attribute() { printf '%s' "$dom" | tr '\n' ' ' | sed -n "s/.*data-$1=\"\([^\"]*\)\".*/\1/p"; }
        rendered=$(attribute math-rendered)
        errors=$(attribute math-errors)
        broken=$(attribute broken-images)
        overflow=$(attribute overflow)
        problem=""
        [ -z "$rendered" ] && problem="$problem the math script did not run;"
        [ -n "$errors" ] && [ "$errors" != 0 ] && problem="$problem $errors KaTeX errors;"
        [ -n "$broken" ] && [ "$broken" != 0 ] && problem="$problem $broken images did not load;"
        [ -n "$overflow" ] && [ "$overflow" != 0 ] && problem="$problem $overflow elements overflow the column ($(attribute overflow-where));"
        if printf '%s' "$main" | grep -q -e '\$\$' -e '\\('; then problem="$problem raw \$\$ or \\( left in the text;"; fi
        if printf '%s' "$main" | grep -q '<code[^>]*>\$[^<]*\$</code>'; then problem="$problem an inline \$...\$ span left as code;"; fi
        if [ -n "$problem" ]; then
            echo "FAIL $width px $page:$problem"
            failures=$((failures + 1))
        else
            echo "ok   $width px $page: ${rendered:-0} formulas rendered, images loaded, nothing overflows"
        fi
    done
done
if [ "$failures" != 0 ]; then
    echo "check-rendered: $failures page(s) failed" >&2
    exit 1
fi
