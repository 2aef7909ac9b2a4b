#!/bin/sh
# A key's life through the admin API, with curl: create -> use -> rotate with a grace window ->
# revoke. Needs an admin key (scope keys:admin) of ACCOUNT, e.g.:
#   tskey key create demo --name ops --scopes "keys:admin credit:read"
#   lifecycle.sh BASE_URL ADMIN_KEY ACCOUNT [GRACE_SECONDS]
set -eu
base=${1:?usage: lifecycle.sh BASE_URL ADMIN_KEY ACCOUNT [GRACE_SECONDS]}
admin=${2:?usage: lifecycle.sh BASE_URL ADMIN_KEY ACCOUNT [GRACE_SECONDS]}
account=${3:?usage: lifecycle.sh BASE_URL ADMIN_KEY ACCOUNT [GRACE_SECONDS]}
grace=${4:-3}

api() {	# api METHOD PATH [JSON]
	curl -sS -X "$1" -H "X-API-Key: $admin" -H 'Content-Type: application/json' \
	    ${3:+--data "$3"} "$base/admin/v1$2"
}
field() {	# field NAME < JSON: a top-level string or number field
	sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p"
}
credit() {	# credit KEY: the HTTP status of POST /rest/credit with KEY
	curl -sS -o /dev/null -w '%{http_code}' -X POST -H "X-API-Key: $1" "$base/rest/credit"
}

echo "1. create a key (shown once, only its hash is stored)"
out=$(api POST "/accounts/$account/keys" '{"name":"walkthrough","scopes":["credit:read"]}')
key=$(echo "$out" | field key)
id=$(echo "$out" | field id)
echo "   key id $id, prefix $(echo "$out" | field prefix)"

echo "2. use it: POST /rest/credit -> $(credit "$key")"

echo "3. rotate it with a ${grace}s grace window"
out=$(api POST "/keys/$id/rotate" "{\"grace\":$grace}")
new=$(echo "$out" | field key)
new_id=$(echo "$out" | field id)
echo "   new key id $new_id; old key -> $(credit "$key"), new key -> $(credit "$new")"
sleep $((grace + 1))
echo "   after the grace window: old key -> $(credit "$key"), new key -> $(credit "$new")"

echo "4. revoke the new key: at once, on every path"
api POST "/keys/$new_id/deactivate" >/dev/null
echo "   new key -> $(credit "$new")"

echo "5. the audit trail of the account"
api GET "/audit?account=$account&limit=5" | tr '{' '\n' | grep -o '"action":"[^"]*"' | sed 's/^/   /'
