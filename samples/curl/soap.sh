#!/bin/sh
# Raw SOAP with curl: CreditRemaining with the key in SessionIDHeader, SOAP 1.1 and SOAP 1.2.
#   soap.sh BASE_URL KEY
set -eu
base=${1:?usage: soap.sh BASE_URL KEY}
key=${2:?usage: soap.sh BASE_URL KEY}
body() {	# body ENVELOPE_NAMESPACE
	printf '<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="%s">
  <soap:Header>
    <SessionIDHeader xmlns="http://TrackService.TrackRoad.com/"><SessionID>%s</SessionID></SessionIDHeader>
  </soap:Header>
  <soap:Body><CreditRemaining xmlns="http://TrackService.TrackRoad.com/"/></soap:Body>
</soap:Envelope>\n' "$1" "$key"
}
body http://schemas.xmlsoap.org/soap/envelope/ | curl -sS "$base/TrackService.asmx" \
    -H 'Content-Type: text/xml; charset=utf-8' \
    -H 'SOAPAction: "http://TrackService.TrackRoad.com/CreditRemaining"' --data-binary @-; echo
body http://www.w3.org/2003/05/soap-envelope | curl -sS "$base/TrackService.asmx" \
    -H 'Content-Type: application/soap+xml; charset=utf-8; action="http://TrackService.TrackRoad.com/CreditRemaining"' \
    --data-binary @-; echo
