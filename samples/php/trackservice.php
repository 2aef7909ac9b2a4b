<?php
/*
 * A TrackService client built at run time from tskey's served WSDL by PHP's SoapClient (php-soap).
 *
 *   php trackservice.php BASE_URL key KEY [1.1|1.2]              CreditRemaining, key in SessionIDHeader
 *   php trackservice.php BASE_URL login USER PASSWORD [1.1|1.2]  Login -> CreditRemaining -> Logout,
 *                                                                then the logged-out session once more
 *
 * SOAP 1.1 by default; with 1.2 SoapClient takes the WSDL's TrackServiceSoap12 binding. Prints one
 * line per call. A refusal is a SoapFault: "Fault: <faultstring> [<AuthFault Code>]" and
 * "HTTP status: N" go to stderr and the exit status is 1. TRACKSERVICE_TRACE=1 prints each call's
 * envelope namespaces and HTTP status to stderr.
 */
const TR_NS = 'http://TrackService.TrackRoad.com/';

function usage(): int
{
    fwrite(STDERR, "usage: php trackservice.php BASE_URL key KEY [1.1|1.2]\n"
        . "       php trackservice.php BASE_URL login USER PASSWORD [1.1|1.2]\n");
    return 2;
}

function http_status(SoapClient $client): string
{
    $line = strtok((string)$client->__getLastResponseHeaders(), "\r\n");
    return $line === false ? '?' : (explode(' ', $line)[1] ?? '?');
}

/* Which SOAP version an envelope is: the namespace on its Envelope start tag. */
function envelope_ns(?string $xml): string
{
    if (!preg_match('/<(?:[\w.-]+:)?Envelope\b([^>]*)>/', (string)$xml, $m))
        return '?';
    foreach (['http://schemas.xmlsoap.org/soap/envelope/', 'http://www.w3.org/2003/05/soap-envelope'] as $ns)
        if (strpos($m[1], "\"$ns\"") !== false)
            return $ns;
    return '?';
}

/* One operation; the SessionIDHeader goes in as a SoapHeader, output headers come back in $out. */
function call(SoapClient $client, string $op, array $args, ?string $sid = null, array &$out = [])
{
    $headers = $sid === null ? null : [new SoapHeader(TR_NS, 'SessionIDHeader', ['SessionID' => $sid])];
    try {
        return $client->__soapCall($op, [$args], null, $headers, $out);
    } finally {
        if (getenv('TRACKSERVICE_TRACE'))
            fprintf(STDERR, "trace: %s sent %s, got HTTP %s %s\n", $op,
                envelope_ns($client->__getLastRequest()), http_status($client),
                envelope_ns($client->__getLastResponse()));
    }
}

/* "Unauthorized: ... [INVALID]": SoapClient maps <detail><AuthFault> to an object. */
function describe(SoapFault $f): string
{
    $af = $f->detail->AuthFault ?? null;
    $code = is_object($af) && isset($af->Code) ? " [$af->Code]" : '';
    return 'Fault: ' . $f->getMessage() . $code;
}

function main(array $argv): int
{
    if (count($argv) < 4 || !in_array($argv[2], ['key', 'login'], true))
        return usage();
    $login = $argv[2] === 'login';
    $version = $argv[$login ? 5 : 4] ?? '1.1';
    if (!in_array($version, ['1.1', '1.2'], true))
        return usage();
    ini_set('default_socket_timeout', '10');     /* reading a response; connection_timeout below */
    $client = null;
    try {
        $client = new SoapClient(rtrim($argv[1], '/') . '/TrackService.asmx?WSDL', [
            'soap_version' => $version === '1.2' ? SOAP_1_2 : SOAP_1_1,
            'exceptions' => true,
            'cache_wsdl' => WSDL_CACHE_NONE,
            'connection_timeout' => 10,
            'trace' => true,            /* keeps the last exchange: the HTTP status of a fault */
        ]);
        if (!$login) {
            $res = call($client, 'CreditRemaining', [], $argv[3]);
            printf("Credit: %d\n", $res->CreditRemainingResult->Credit);
            return 0;
        }
        $out = [];
        $res = call($client, 'Login', ['userName' => $argv[3], 'password' => $argv[4] ?? ''], null, $out);
        printf("Login: %s\n", $res->LoginResult->Status);
        if ($res->LoginResult->Status !== 'Success')
            return 1;
        /* The session key comes back twice, as ASMX sends it: in LoginResult/Key and in the
         * output SessionIDHeader. */
        $sid = $out['SessionIDHeader']->SessionID ?? $res->LoginResult->Key;
        $res = call($client, 'CreditRemaining', [], $sid);
        printf("Credit: %d\n", $res->CreditRemainingResult->Credit);
        call($client, 'Logout', [], $sid);
        printf("Logout: done\n");
        try {
            $res = call($client, 'CreditRemaining', [], $sid);
            printf("After logout: Credit: %d (the session should be gone)\n",
                $res->CreditRemainingResult->Credit);
            return 1;
        } catch (SoapFault $f) {
            printf("After logout: %s (HTTP %s)\n", describe($f), http_status($client));
            return 0;
        }
    } catch (SoapFault $f) {
        fprintf(STDERR, "%s\n", describe($f));
        /* A transport error is a SoapFault too (faultcode "HTTP"), with no response. */
        if ($client !== null && http_status($client) !== '?')
            fprintf(STDERR, "HTTP status: %s\n", http_status($client));
        return 1;
    }
}

exit(main($argv));
