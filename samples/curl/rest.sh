#!/bin/sh
# REST with curl: credit (JSON and XML), who-am-I, and the legacy login/logout.
#   rest.sh BASE_URL KEY [USER PASSWORD]
set -eu
base=${1:?usage: rest.sh BASE_URL KEY [USER PASSWORD]}
key=${2:?usage: rest.sh BASE_URL KEY [USER PASSWORD]}
curl -sS -X POST -H "X-API-Key: $key" "$base/rest/credit"; echo
curl -sS -X POST -H "X-API-Key: $key" -H 'Accept: application/xml' "$base/rest/credit"; echo
curl -sS -H "Authorization: Bearer $key" "$base/rest/me"; echo
if [ $# -ge 4 ]; then
	session=$(curl -sS -X POST -H 'Content-Type: application/json' \
	    -d "{\"UserName\":\"$3\",\"Password\":\"$4\"}" "$base/rest/login" |
	    sed -n 's/.*"Key":"\([^"]*\)".*/\1/p')
	curl -sS -X POST -H "X-API-Key: $session" "$base/rest/credit"; echo
	curl -sS -X POST -H "X-API-Key: $session" "$base/rest/logout"; echo
fi
