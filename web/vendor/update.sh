#!/bin/sh
# Fetches the vendored libraries from the npm registry at the versions below and lays them
# out as plain ES modules importable by relative path (no import map, which the CSP would
# have to allow inline). The only change to their code: bare imports ("preact",
# "preact/hooks", "@preact/signals-core") become relative paths. Run from this folder;
# the result is committed, so running Ordo needs no network and no Node.
set -eu
PREACT=10.28.2
HTM=3.1.1
SIGNALS=2.11.4
SIGNALS_CORE=1.14.5
UPLOT=1.6.32
LEAFLET=1.9.4

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fetch() { # package version -> $work/name/package
  name=$(echo "$1" | tr '/@' '__')
  mkdir -p "$work/$name"
  (cd "$work/$name" && npm pack "$1@$2" --silent >/dev/null && tar xzf ./*.tgz)
  echo "$work/$name/package"
}

rm -rf preact htm signals uplot leaflet
mkdir -p preact htm signals uplot leaflet

p=$(fetch preact $PREACT)
cp "$p/dist/preact.module.js" preact/preact.js
sed 's|from"preact"|from"./preact.js"|g' "$p/hooks/dist/hooks.module.js" > preact/hooks.js
cp "$p/LICENSE" preact/LICENSE

p=$(fetch htm $HTM)
cp "$p/dist/htm.module.js" htm/htm.js
cp "$p/LICENSE" htm/LICENSE

p=$(fetch @preact/signals-core $SIGNALS_CORE)
cp "$p/dist/signals-core.module.js" signals/signals-core.js
cp "$p/LICENSE" signals/LICENSE-signals-core
p=$(fetch @preact/signals $SIGNALS)
sed -e 's|from"@preact/signals-core"|from"./signals-core.js"|g' \
    -e 's|from"preact/hooks"|from"../preact/hooks.js"|g' \
    -e 's|from"preact"|from"../preact/preact.js"|g' \
    "$p/dist/signals.module.js" > signals/signals.js
cp "$p/LICENSE" signals/LICENSE

p=$(fetch uplot $UPLOT)
cp "$p/dist/uPlot.esm.js" uplot/uplot.js
cp "$p/dist/uPlot.min.css" uplot/uplot.css
cp "$p/LICENSE" uplot/LICENSE

p=$(fetch leaflet $LEAFLET)
cp "$p/dist/leaflet-src.esm.js" leaflet/leaflet.js
cp "$p/dist/leaflet.css" leaflet/leaflet.css
cp -r "$p/dist/images" leaflet/images
cp "$p/LICENSE" leaflet/LICENSE

# Source maps are not shipped: drop their comments so that browsers do not ask for them.
for f in */*.js; do
  sed -i 's#//\# sourceMappingURL=[^ ]*$##' "$f"
done
