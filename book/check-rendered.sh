#!/usr/bin/env bash
# Opens every built chapter of the book in headless Chromium and fails if a formula is left
# unrendered (raw `$$` or `\(` in the page text), KaTeX reported an error, the page's math
# script did not run, or an image did not load. Run after `mdbook build book`.
set -euo pipefail
cd "$(dirname "$0")"
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "check-rendered: chromium not found (apt-get install chromium)" >&2
    exit 1
fi
failures=0
for page in book/*.html; do
    case "$(basename "$page")" in print.html|toc.html|404.html) continue ;; esac
    dom=$("$browser" --headless --no-sandbox --disable-gpu --allow-file-access-from-files \
        --virtual-time-budget=10000 --dump-dom "file://$PWD/$page" 2>/dev/null)
    main=$(printf '%s' "$dom" | sed -n '/<main/,/<\/main>/p' | sed -e 's/<annotation[^>]*>[^<]*<\/annotation>//g' -e 's/<script[^>]*>.*<\/script>//g')
    attribute() { printf '%s' "$dom" | tr '\n' ' ' | sed -n "s/.*data-$1=\"\([0-9-]*\)\".*/\1/p"; }
    rendered=$(attribute math-rendered)
    errors=$(attribute math-errors)
    broken=$(attribute broken-images)
    problem=""
    [ -z "$rendered" ] && problem="$problem the math script did not run;"
    [ -n "$errors" ] && [ "$errors" != 0 ] && problem="$problem $errors KaTeX errors;"
    [ -n "$broken" ] && [ "$broken" != 0 ] && problem="$problem $broken images did not load;"
    if printf '%s' "$main" | grep -q -e '\$\$' -e '\\('; then problem="$problem raw \$\$ or \\( left in the text;"; fi
    if [ -n "$problem" ]; then
        echo "FAIL $page:$problem"
        failures=$((failures + 1))
    else
        echo "ok   $page: ${rendered:-0} formulas rendered, images loaded"
    fi
done
if [ "$failures" != 0 ]; then
    echo "check-rendered: $failures page(s) failed" >&2
    exit 1
fi
