#!/usr/bin/python3
"""A TrackService client generated at run time from tskey's WSDL by zeep (Debian's python3-zeep).

    zeep_client.py BASE_URL key KEY              CreditRemaining with the key in SessionIDHeader
    zeep_client.py BASE_URL login USER PASSWORD  Login -> CreditRemaining -> Logout

Prints one line per call; exits 1 with the fault's message when the service refuses.
"""
import sys

import zeep
from zeep.exceptions import Fault

NS = "{http://TrackService.TrackRoad.com/}"


def client_for(base, binding="TrackServiceSoap"):
    client = zeep.Client(wsdl=base.rstrip("/") + "/TrackService.asmx?WSDL")
    return client.bind("TrackService", binding), client


def header(client, session_id):
    return [client.get_element(NS + "SessionIDHeader")(SessionID=session_id)]


def credit(service, client, session_id):
    result = service.CreditRemaining(_soapheaders=header(client, session_id))
    # zeep flattens a one-child result to the bare value; ours has Credit, Errors and Status.
    return result if isinstance(result, int) else result.Credit


def main(argv):
    if len(argv) < 4 or argv[2] not in ("key", "login"):
        print(__doc__, file=sys.stderr)
        return 2
    service, client = client_for(argv[1])
    try:
        if argv[2] == "key":
            print("Credit:", credit(service, client, argv[3]))
            return 0
        result = service.Login(userName=argv[3], password=argv[4] if len(argv) > 4 else "")
        # Login also returns the session in an output header, so zeep hands back body + header.
        result = result.body.LoginResult if hasattr(result, "body") else result
        print("Login:", result.Status)
        if result.Status != "Success":
            return 1
        print("Credit:", credit(service, client, result.Key))
        service.Logout(_soapheaders=header(client, result.Key))
        print("Logout: done")
        return 0
    except Fault as fault:
        print("Fault:", fault.message, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
