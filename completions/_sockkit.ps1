
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'sockkit' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'sockkit'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'sockkit' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Connect to a TCP server (or a Unix socket, -U) and relay stdin to it and its data to stdout')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Listen for TCP clients (or on a Unix socket, -U) and relay stdin to them and their data to stdout')
            [CompletionResult]::new('udp-listen', 'udp-listen', [CompletionResultType]::ParameterValue, 'Receive UDP datagrams (or Unix datagrams, -U) from any number of senders and answer the most recent one')
            [CompletionResult]::new('udp-send', 'udp-send', [CompletionResultType]::ParameterValue, 'Send UDP datagrams (or Unix datagrams, -U) and wait for the replies')
            [CompletionResult]::new('lab-client', 'lab-client', [CompletionResultType]::ParameterValue, 'Play the student''s side of the socket-lab pickle handshake')
            [CompletionResult]::new('lab-server', 'lab-server', [CompletionResultType]::ParameterValue, 'Run the socket-lab server: many students at once, and no bad client can stop it')
            [CompletionResult]::new('relay', 'relay', [CompletionResultType]::ParameterValue, 'Forward a TCP port to a target, and show what passes both ways')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sockkit;connect' {
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Connect to the Unix stream socket at PATH instead of HOST PORT (@NAME: Linux''s abstract namespace)')
            [CompletionResult]::new('--unix', '--unix', [CompletionResultType]::ParameterName, 'Connect to the Unix stream socket at PATH instead of HOST PORT (@NAME: Linux''s abstract namespace)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Source address to connect from')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Source address to connect from')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Source port to connect from')
            [CompletionResult]::new('--source-port', '--source-port', [CompletionResultType]::ParameterName, 'Source port to connect from')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Give up a connection attempt, and with --tls its handshake, after this long (500ms, 3s, 2m; a bare number is seconds)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up a connection attempt, and with --tls its handshake, after this long (500ms, 3s, 2m; a bare number is seconds)')
            [CompletionResult]::new('--retry', '--retry', [CompletionResultType]::ParameterName, 'Keep retrying a refused connection (with -U, also a missing socket file) for this long (wait for a server to start)')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Close a connection after this long without data in either direction (exit 1 when it was the only one)')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Close a connection after this long without data in either direction (exit 1 when it was the only one)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Quit this many seconds after stdin ends, even if the peer is still open (0 = at once; one connection only, not with -k)')
            [CompletionResult]::new('--quit-after-eof', '--quit-after-eof', [CompletionResultType]::ParameterName, 'Quit this many seconds after stdin ends, even if the peer is still open (0 = at once; one connection only, not with -k)')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'connect: trust the certificate authorities in this PEM file instead of the system''s')
            [CompletionResult]::new('--ssl-trustfile', '--ssl-trustfile', [CompletionResultType]::ParameterName, 'connect: trust the certificate authorities in this PEM file instead of the system''s')
            [CompletionResult]::new('--pin', '--pin', [CompletionResultType]::ParameterName, 'connect: accept exactly the server certificate with this SHA-256 digest, `sha256:HEX`, as `listen --tls` prints it (repeatable); the handshake''s signatures are still checked')
            [CompletionResult]::new('--sni', '--sni', [CompletionResultType]::ParameterName, 'connect: the server name to send and to check the certificate against [default: HOST, unless it is an IP address]')
            [CompletionResult]::new('--ssl-servername', '--ssl-servername', [CompletionResultType]::ParameterName, 'connect: the server name to send and to check the certificate against [default: HOST, unless it is an IP address]')
            [CompletionResult]::new('--alpn', '--alpn', [CompletionResultType]::ParameterName, 'An ALPN protocol to offer (connect) or accept (listen), in order of preference (repeatable)')
            [CompletionResult]::new('--ssl-alpn', '--ssl-alpn', [CompletionResultType]::ParameterName, 'An ALPN protocol to offer (connect) or accept (listen), in order of preference (repeatable)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Certificate chain in PEM: the server''s (listen) or a client certificate (connect); with --key')
            [CompletionResult]::new('--ssl-cert', '--ssl-cert', [CompletionResultType]::ParameterName, 'Certificate chain in PEM: the server''s (listen) or a client certificate (connect); with --key')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'The private key of --cert, in PEM')
            [CompletionResult]::new('--ssl-key', '--ssl-key', [CompletionResultType]::ParameterName, 'The private key of --cert, in PEM')
            [CompletionResult]::new('--client-ca', '--client-ca', [CompletionResultType]::ParameterName, 'listen: require client certificates issued by the authorities in this PEM file')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How to show received data')
            [CompletionResult]::new('--framing', '--framing', [CompletionResultType]::ParameterName, 'How pickles are delimited in the stream (--mode pickle)')
            [CompletionResult]::new('--max-message', '--max-message', [CompletionResultType]::ParameterName, 'Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped')
            [CompletionResult]::new('--send', '--send', [CompletionResultType]::ParameterName, 'How to turn input into bytes: raw, hex (one line of hex digits per message) or pickle (one Python literal per line, sent as a pickle)')
            [CompletionResult]::new('--pickle-protocol', '--pickle-protocol', [CompletionResultType]::ParameterName, 'Pickle protocol for --send pickle (0 to 5; 4 is what Python 3.8 to 3.13 write, 3 suits Python 3.0+)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Numeric addresses only: never resolve names')
            [CompletionResult]::new('--numeric', '--numeric', [CompletionResultType]::ParameterName, 'Numeric addresses only: never resolve names')
            [CompletionResult]::new('-z', '-z', [CompletionResultType]::ParameterName, 'Zero-I/O mode: report which ports accept a connection, send nothing (so the relay flags -q, -i, --no-shutdown, --send-only, --recv-only, --send, -C, -I are refused with it)')
            [CompletionResult]::new('--zero-io', '--zero-io', [CompletionResultType]::ParameterName, 'Zero-I/O mode: report which ports accept a connection, send nothing (so the relay flags -q, -i, --no-shutdown, --send-only, --recv-only, --send, -C, -I are refused with it)')
            [CompletionResult]::new('--no-shutdown', '--no-shutdown', [CompletionResultType]::ParameterName, 'Do not half-close the connection when stdin ends')
            [CompletionResult]::new('--send-only', '--send-only', [CompletionResultType]::ParameterName, 'Only send: ignore what the peer sends, quit when stdin ends')
            [CompletionResult]::new('--recv-only', '--recv-only', [CompletionResultType]::ParameterName, 'Only receive: do not read stdin')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say what happens on stderr: connections, half-closes, transfer summaries')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say what happens on stderr: connections, half-closes, transfer summaries')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show a live byte count and rate on stderr (when it is a terminal)')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Use TLS (1.2 or 1.3). connect verifies the server''s certificate against the system''s trusted authorities and the host name; listen uses --cert/--key, or makes a self-signed certificate and prints the --pin a client needs')
            [CompletionResult]::new('--ssl', '--ssl', [CompletionResultType]::ParameterName, 'Use TLS (1.2 or 1.3). connect verifies the server''s certificate against the system''s trusted authorities and the host name; listen uses --cert/--key, or makes a self-signed certificate and prints the --pin a client needs')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'connect: do not verify the server''s certificate at all (a warning says so): anyone on the path can read and change the data')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Short for --mode hex')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal')
            [CompletionResult]::new('--interactive', '--interactive', [CompletionResultType]::ParameterName, 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal')
            [CompletionResult]::new('--no-interactive', '--no-interactive', [CompletionResultType]::ParameterName, 'Never open the line editor, even on a terminal: read stdin as a plain stream')
            [CompletionResult]::new('--no-history', '--no-history', [CompletionResultType]::ParameterName, 'Do not read or write the REPL history file')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Send line endings as CRLF (LF becomes CR LF)')
            [CompletionResult]::new('--crlf', '--crlf', [CompletionResultType]::ParameterName, 'Send line endings as CRLF (LF becomes CR LF)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sockkit;listen' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Port to listen on (for nc-traditional habits: `listen -p 12345`)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port to listen on (for nc-traditional habits: `listen -p 12345`)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Listen on a Unix stream socket at PATH instead of a TCP port (@NAME: Linux''s abstract namespace). A stale socket file there is replaced; the file is removed on exit')
            [CompletionResult]::new('--unix', '--unix', [CompletionResultType]::ParameterName, 'Listen on a Unix stream socket at PATH instead of a TCP port (@NAME: Linux''s abstract namespace). A stale socket file there is replaced; the file is removed on exit')
            [CompletionResult]::new('--unix-mode', '--unix-mode', [CompletionResultType]::ParameterName, 'Permissions of the -U socket file, in octal (660: owner and group may connect) [default: as the umask leaves them]')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Most clients served at once with -k; extra clients are closed')
            [CompletionResult]::new('--max-conns', '--max-conns', [CompletionResultType]::ParameterName, 'Most clients served at once with -k; extra clients are closed')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'Accept only clients from these addresses or CIDR ranges (comma-separated, repeatable)')
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'Refuse clients from these addresses or CIDR ranges (comma-separated, repeatable)')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Close a connection after this long without data in either direction (exit 1 when it was the only one)')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Close a connection after this long without data in either direction (exit 1 when it was the only one)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Quit this many seconds after stdin ends, even if the peer is still open (0 = at once; one connection only, not with -k)')
            [CompletionResult]::new('--quit-after-eof', '--quit-after-eof', [CompletionResultType]::ParameterName, 'Quit this many seconds after stdin ends, even if the peer is still open (0 = at once; one connection only, not with -k)')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'connect: trust the certificate authorities in this PEM file instead of the system''s')
            [CompletionResult]::new('--ssl-trustfile', '--ssl-trustfile', [CompletionResultType]::ParameterName, 'connect: trust the certificate authorities in this PEM file instead of the system''s')
            [CompletionResult]::new('--pin', '--pin', [CompletionResultType]::ParameterName, 'connect: accept exactly the server certificate with this SHA-256 digest, `sha256:HEX`, as `listen --tls` prints it (repeatable); the handshake''s signatures are still checked')
            [CompletionResult]::new('--sni', '--sni', [CompletionResultType]::ParameterName, 'connect: the server name to send and to check the certificate against [default: HOST, unless it is an IP address]')
            [CompletionResult]::new('--ssl-servername', '--ssl-servername', [CompletionResultType]::ParameterName, 'connect: the server name to send and to check the certificate against [default: HOST, unless it is an IP address]')
            [CompletionResult]::new('--alpn', '--alpn', [CompletionResultType]::ParameterName, 'An ALPN protocol to offer (connect) or accept (listen), in order of preference (repeatable)')
            [CompletionResult]::new('--ssl-alpn', '--ssl-alpn', [CompletionResultType]::ParameterName, 'An ALPN protocol to offer (connect) or accept (listen), in order of preference (repeatable)')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Certificate chain in PEM: the server''s (listen) or a client certificate (connect); with --key')
            [CompletionResult]::new('--ssl-cert', '--ssl-cert', [CompletionResultType]::ParameterName, 'Certificate chain in PEM: the server''s (listen) or a client certificate (connect); with --key')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'The private key of --cert, in PEM')
            [CompletionResult]::new('--ssl-key', '--ssl-key', [CompletionResultType]::ParameterName, 'The private key of --cert, in PEM')
            [CompletionResult]::new('--client-ca', '--client-ca', [CompletionResultType]::ParameterName, 'listen: require client certificates issued by the authorities in this PEM file')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How to show received data')
            [CompletionResult]::new('--framing', '--framing', [CompletionResultType]::ParameterName, 'How pickles are delimited in the stream (--mode pickle)')
            [CompletionResult]::new('--max-message', '--max-message', [CompletionResultType]::ParameterName, 'Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped')
            [CompletionResult]::new('--send', '--send', [CompletionResultType]::ParameterName, 'How to turn input into bytes: raw, hex (one line of hex digits per message) or pickle (one Python literal per line, sent as a pickle)')
            [CompletionResult]::new('--pickle-protocol', '--pickle-protocol', [CompletionResultType]::ParameterName, 'Pickle protocol for --send pickle (0 to 5; 4 is what Python 3.8 to 3.13 write, 3 suits Python 3.0+)')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Accepted and ignored, so `sockkit listen -l 12345` works like `nc -l 12345`')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Numeric addresses only: never resolve names')
            [CompletionResult]::new('--numeric', '--numeric', [CompletionResultType]::ParameterName, 'Numeric addresses only: never resolve names')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep listening: serve many clients at once')
            [CompletionResult]::new('--keep-open', '--keep-open', [CompletionResultType]::ParameterName, 'Keep listening: serve many clients at once')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Send every client''s data back to it (and print it); stdin is not read, so the flags about stdin (-q, --no-shutdown, --send-only, --send, -C, -I) are refused with it')
            [CompletionResult]::new('--broker', '--broker', [CompletionResultType]::ParameterName, 'Relay each client''s data to all other clients (implies -k)')
            [CompletionResult]::new('--chat', '--chat', [CompletionResultType]::ParameterName, 'Like --broker, with a `<clientN>` prefix on each line and control characters (C0, C1, bidi overrides) escaped')
            [CompletionResult]::new('--no-shutdown', '--no-shutdown', [CompletionResultType]::ParameterName, 'Do not half-close the connection when stdin ends')
            [CompletionResult]::new('--send-only', '--send-only', [CompletionResultType]::ParameterName, 'Only send: ignore what the peer sends, quit when stdin ends')
            [CompletionResult]::new('--recv-only', '--recv-only', [CompletionResultType]::ParameterName, 'Only receive: do not read stdin')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say what happens on stderr: connections, half-closes, transfer summaries')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say what happens on stderr: connections, half-closes, transfer summaries')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show a live byte count and rate on stderr (when it is a terminal)')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Use TLS (1.2 or 1.3). connect verifies the server''s certificate against the system''s trusted authorities and the host name; listen uses --cert/--key, or makes a self-signed certificate and prints the --pin a client needs')
            [CompletionResult]::new('--ssl', '--ssl', [CompletionResultType]::ParameterName, 'Use TLS (1.2 or 1.3). connect verifies the server''s certificate against the system''s trusted authorities and the host name; listen uses --cert/--key, or makes a self-signed certificate and prints the --pin a client needs')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'connect: do not verify the server''s certificate at all (a warning says so): anyone on the path can read and change the data')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Short for --mode hex')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal')
            [CompletionResult]::new('--interactive', '--interactive', [CompletionResultType]::ParameterName, 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal')
            [CompletionResult]::new('--no-interactive', '--no-interactive', [CompletionResultType]::ParameterName, 'Never open the line editor, even on a terminal: read stdin as a plain stream')
            [CompletionResult]::new('--no-history', '--no-history', [CompletionResultType]::ParameterName, 'Do not read or write the REPL history file')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Send line endings as CRLF (LF becomes CR LF)')
            [CompletionResult]::new('--crlf', '--crlf', [CompletionResultType]::ParameterName, 'Send line endings as CRLF (LF becomes CR LF)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sockkit;udp-listen' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Port to listen on (for nc-traditional habits)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port to listen on (for nc-traditional habits)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Receive on a Unix datagram socket at PATH instead of a UDP port (@NAME: Linux''s abstract namespace). A stale socket file there is replaced; the file is removed on exit')
            [CompletionResult]::new('--unix', '--unix', [CompletionResultType]::ParameterName, 'Receive on a Unix datagram socket at PATH instead of a UDP port (@NAME: Linux''s abstract namespace). A stale socket file there is replaced; the file is removed on exit')
            [CompletionResult]::new('--unix-mode', '--unix-mode', [CompletionResultType]::ParameterName, 'Permissions of the -U socket file, in octal (660: owner and group may send) [default: as the umask leaves them]')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Exit 0 after this many datagrams')
            [CompletionResult]::new('--rcvbuf', '--rcvbuf', [CompletionResultType]::ParameterName, 'Receive buffer of the socket (SO_RCVBUF), in bytes or with K, M or G: datagrams that arrive while it is full are dropped by the kernel. The system caps it (net.core.rmem_max on Linux); a note says so when it gives less [default: 4M]')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How to show received data')
            [CompletionResult]::new('--framing', '--framing', [CompletionResultType]::ParameterName, 'How pickles are delimited in the stream (--mode pickle)')
            [CompletionResult]::new('--max-message', '--max-message', [CompletionResultType]::ParameterName, 'Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped')
            [CompletionResult]::new('--send', '--send', [CompletionResultType]::ParameterName, 'How to turn input into bytes: raw, hex (one line of hex digits per message) or pickle (one Python literal per line, sent as a pickle)')
            [CompletionResult]::new('--pickle-protocol', '--pickle-protocol', [CompletionResultType]::ParameterName, 'Pickle protocol for --send pickle (0 to 5; 4 is what Python 3.8 to 3.13 write, 3 suits Python 3.0+)')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Accepted and ignored, so `sockkit udp-listen -l 12345` works')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'Accepted and ignored, so `sockkit udp-listen -u 12345` works like `nc -u -l 12345`')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Numeric addresses only: never resolve names')
            [CompletionResult]::new('--numeric', '--numeric', [CompletionResultType]::ParameterName, 'Numeric addresses only: never resolve names')
            [CompletionResult]::new('--show-sender', '--show-sender', [CompletionResultType]::ParameterName, 'Prefix each datagram with the address it came from')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Send every datagram back to its sender')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say what happens on stderr: where it listens, each datagram''s sender and size, and every second and at the end how many datagrams came and how many the kernel dropped (stdout is unchanged; --show-sender puts the sender there)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say what happens on stderr: where it listens, each datagram''s sender and size, and every second and at the end how many datagrams came and how many the kernel dropped (stdout is unchanged; --show-sender puts the sender there)')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Short for --mode hex')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal')
            [CompletionResult]::new('--interactive', '--interactive', [CompletionResultType]::ParameterName, 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal')
            [CompletionResult]::new('--no-interactive', '--no-interactive', [CompletionResultType]::ParameterName, 'Never open the line editor, even on a terminal: read stdin as a plain stream')
            [CompletionResult]::new('--no-history', '--no-history', [CompletionResultType]::ParameterName, 'Do not read or write the REPL history file')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Send line endings as CRLF (LF becomes CR LF)')
            [CompletionResult]::new('--crlf', '--crlf', [CompletionResultType]::ParameterName, 'Send line endings as CRLF (LF becomes CR LF)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sockkit;udp-send' {
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Send to the Unix datagram socket at PATH instead of HOST PORT (@NAME: Linux''s abstract namespace); replies come back to a socket of its own')
            [CompletionResult]::new('--unix', '--unix', [CompletionResultType]::ParameterName, 'Send to the Unix datagram socket at PATH instead of HOST PORT (@NAME: Linux''s abstract namespace); replies come back to a socket of its own')
            [CompletionResult]::new('--retry', '--retry', [CompletionResultType]::ParameterName, 'Keep resending the first datagram while the port is closed (with -U: wait while the socket is missing), for this long (wait for a listener to start)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Stop waiting for replies after this long without one (0 = do not wait)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Stop after this many replies')
            [CompletionResult]::new('--size', '--size', [CompletionResultType]::ParameterName, 'Cut stdin into datagrams of SIZE bytes (the last one may be shorter) instead of one datagram per line: a stream, to measure a link or a server')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Send at most this many datagrams a second, evenly spaced (1000, 1000/s, 20/ms, 30/m)')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How to show received data')
            [CompletionResult]::new('--framing', '--framing', [CompletionResultType]::ParameterName, 'How pickles are delimited in the stream (--mode pickle)')
            [CompletionResult]::new('--max-message', '--max-message', [CompletionResultType]::ParameterName, 'Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped')
            [CompletionResult]::new('--send', '--send', [CompletionResultType]::ParameterName, 'How to turn input into bytes: raw, hex (one line of hex digits per message) or pickle (one Python literal per line, sent as a pickle)')
            [CompletionResult]::new('--pickle-protocol', '--pickle-protocol', [CompletionResultType]::ParameterName, 'Pickle protocol for --send pickle (0 to 5; 4 is what Python 3.8 to 3.13 write, 3 suits Python 3.0+)')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Numeric addresses only: never resolve names')
            [CompletionResult]::new('--numeric', '--numeric', [CompletionResultType]::ParameterName, 'Numeric addresses only: never resolve names')
            [CompletionResult]::new('--show-sender', '--show-sender', [CompletionResultType]::ParameterName, 'Prefix each reply with the address it came from')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say what happens on stderr, and at the end how many datagrams were sent and received')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say what happens on stderr, and at the end how many datagrams were sent and received')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Short for --mode hex')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal')
            [CompletionResult]::new('--interactive', '--interactive', [CompletionResultType]::ParameterName, 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal')
            [CompletionResult]::new('--no-interactive', '--no-interactive', [CompletionResultType]::ParameterName, 'Never open the line editor, even on a terminal: read stdin as a plain stream')
            [CompletionResult]::new('--no-history', '--no-history', [CompletionResultType]::ParameterName, 'Do not read or write the REPL history file')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Send line endings as CRLF (LF becomes CR LF)')
            [CompletionResult]::new('--crlf', '--crlf', [CompletionResultType]::ParameterName, 'Send line endings as CRLF (LF becomes CR LF)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sockkit;lab-client' {
            [CompletionResult]::new('--ip', '--ip', [CompletionResultType]::ParameterName, 'Server address')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Server port')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Connect to a lab server on the Unix stream socket at PATH instead of --ip/--port (@NAME: Linux''s abstract namespace)')
            [CompletionResult]::new('--unix', '--unix', [CompletionResultType]::ParameterName, 'Connect to a lab server on the Unix stream socket at PATH instead of --ip/--port (@NAME: Linux''s abstract namespace)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Student name')
            [CompletionResult]::new('--github', '--github', [CompletionResultType]::ParameterName, 'GitHub user name')
            [CompletionResult]::new('--sid', '--sid', [CompletionResultType]::ParameterName, 'Student id')
            [CompletionResult]::new('--retry', '--retry', [CompletionResultType]::ParameterName, 'Keep retrying a refused connection for this long (wait for a server to start)')
            [CompletionResult]::new('--ack-timeout', '--ack-timeout', [CompletionResultType]::ParameterName, 'Give up waiting for the client id or the acknowledgement after this long (default: wait as a Python client does, with a note on stderr after 5 s)')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Give up connecting after this long')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting after this long')
            [CompletionResult]::new('--pickle-protocol', '--pickle-protocol', [CompletionResultType]::ParameterName, 'Pickle protocol of the student dict (Python 3.8+ sends 4)')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How to show received data')
            [CompletionResult]::new('--framing', '--framing', [CompletionResultType]::ParameterName, 'How pickles are delimited in the stream (--mode pickle)')
            [CompletionResult]::new('--max-message', '--max-message', [CompletionResultType]::ParameterName, 'Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show every message exchanged, each direction labelled')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show every message exchanged, each direction labelled')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal')
            [CompletionResult]::new('--interactive', '--interactive', [CompletionResultType]::ParameterName, 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal')
            [CompletionResult]::new('--no-interactive', '--no-interactive', [CompletionResultType]::ParameterName, 'Never open the line editor, even on a terminal: read stdin as a plain stream')
            [CompletionResult]::new('--no-history', '--no-history', [CompletionResultType]::ParameterName, 'Do not read or write the REPL history file')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Short for --mode hex')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sockkit;lab-server' {
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Address to listen on')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port to listen on (0 picks a free one and prints it)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Listen on a Unix stream socket at PATH instead of --host/--port (@NAME: Linux''s abstract namespace); each client''s id is then its number, 1, 2, 3... A stale socket file there is replaced; the file is removed on exit')
            [CompletionResult]::new('--unix', '--unix', [CompletionResultType]::ParameterName, 'Listen on a Unix stream socket at PATH instead of --host/--port (@NAME: Linux''s abstract namespace); each client''s id is then its number, 1, 2, 3... A stale socket file there is replaced; the file is removed on exit')
            [CompletionResult]::new('--unix-mode', '--unix-mode', [CompletionResultType]::ParameterName, 'Permissions of the -U socket file, in octal (660: owner and group may connect) [default: as the umask leaves them]')
            [CompletionResult]::new('--handshake-timeout', '--handshake-timeout', [CompletionResultType]::ParameterName, 'Deadline for a student record: the first must be complete this long after the client connected, each later one this long after its first bytes, however slowly they arrive. Silence between records is never a reason to close (see --idle-timeout)')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Close an acknowledged client that sends nothing for this long (default: never, as the original server keeps it)')
            [CompletionResult]::new('--roster', '--roster', [CompletionResultType]::ParameterName, 'Append one CSV row per acknowledged student to this file')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Most clients connected at once; extra clients are closed')
            [CompletionResult]::new('--max-conns', '--max-conns', [CompletionResultType]::ParameterName, 'Most clients connected at once; extra clients are closed')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'Accept only clients from these addresses or CIDR ranges (comma-separated, repeatable)')
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'Refuse clients from these addresses or CIDR ranges (comma-separated, repeatable)')
            [CompletionResult]::new('--max-message', '--max-message', [CompletionResultType]::ParameterName, 'Largest record accepted from a client, in bytes. The original server reads one recv(1024), so no longer record ever worked with it; the default leaves eight times that')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Accept only records with exactly the three keys, the name and GitHub user name as str and the sid as int (the original server takes any values and ignores extra keys)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show every message exchanged')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show every message exchanged')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sockkit;relay' {
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Most clients served at once; extra clients are closed')
            [CompletionResult]::new('--max-conns', '--max-conns', [CompletionResultType]::ParameterName, 'Most clients served at once; extra clients are closed')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'Accept only clients from these addresses or CIDR ranges (comma-separated, repeatable)')
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'Refuse clients from these addresses or CIDR ranges (comma-separated, repeatable)')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Give up connecting to the target after this long (500ms, 3s, 2m; a bare number is seconds)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Give up connecting to the target after this long (500ms, 3s, 2m; a bare number is seconds)')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Close a connection after this long without data in either direction')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Close a connection after this long without data in either direction')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, '--listen-tls: the certificate chain clients are shown, in PEM; with --key')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, '--listen-tls: the private key of --cert, in PEM')
            [CompletionResult]::new('--client-ca', '--client-ca', [CompletionResultType]::ParameterName, '--listen-tls: require client certificates issued by the authorities in this PEM file')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, '--target-tls: trust the certificate authorities in this PEM file instead of the system''s')
            [CompletionResult]::new('--pin', '--pin', [CompletionResultType]::ParameterName, '--target-tls: accept exactly the target certificate with this SHA-256 digest (repeatable)')
            [CompletionResult]::new('--sni', '--sni', [CompletionResultType]::ParameterName, '--target-tls: the server name to send and check [default: TARGET''s host, unless an address]')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, 'How to show received data')
            [CompletionResult]::new('--framing', '--framing', [CompletionResultType]::ParameterName, 'How pickles are delimited in the stream (--mode pickle)')
            [CompletionResult]::new('--max-message', '--max-message', [CompletionResultType]::ParameterName, 'Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'Use IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'Use IPv6 only')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Numeric addresses only: never resolve names')
            [CompletionResult]::new('--numeric', '--numeric', [CompletionResultType]::ParameterName, 'Numeric addresses only: never resolve names')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Accepted for nc habits: relay always serves many clients at once')
            [CompletionResult]::new('--keep-open', '--keep-open', [CompletionResultType]::ParameterName, 'Accepted for nc habits: relay always serves many clients at once')
            [CompletionResult]::new('--show', '--show', [CompletionResultType]::ParameterName, 'With --mode raw, show what passes too (by default a raw relay only forwards)')
            [CompletionResult]::new('--listen-tls', '--listen-tls', [CompletionResultType]::ParameterName, 'Serve TLS to clients, with --cert/--key or a self-signed certificate whose --pin is printed')
            [CompletionResult]::new('--target-tls', '--target-tls', [CompletionResultType]::ParameterName, 'Speak TLS to the target, verifying its certificate (the system''s authorities, --ca or --pin) and its name (TARGET''s host, or --sni)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, '--target-tls: do not verify the target''s certificate at all (a warning says so)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say on stderr when each connection opens and closes: who closed first, bytes each way')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say on stderr when each connection opens and closes: who closed first, bytes each way')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Short for --mode hex')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sockkit;help' {
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Connect to a TCP server (or a Unix socket, -U) and relay stdin to it and its data to stdout')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Listen for TCP clients (or on a Unix socket, -U) and relay stdin to them and their data to stdout')
            [CompletionResult]::new('udp-listen', 'udp-listen', [CompletionResultType]::ParameterValue, 'Receive UDP datagrams (or Unix datagrams, -U) from any number of senders and answer the most recent one')
            [CompletionResult]::new('udp-send', 'udp-send', [CompletionResultType]::ParameterValue, 'Send UDP datagrams (or Unix datagrams, -U) and wait for the replies')
            [CompletionResult]::new('lab-client', 'lab-client', [CompletionResultType]::ParameterValue, 'Play the student''s side of the socket-lab pickle handshake')
            [CompletionResult]::new('lab-server', 'lab-server', [CompletionResultType]::ParameterValue, 'Run the socket-lab server: many students at once, and no bad client can stop it')
            [CompletionResult]::new('relay', 'relay', [CompletionResultType]::ParameterValue, 'Forward a TCP port to a target, and show what passes both ways')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sockkit;help;connect' {
            break
        }
        'sockkit;help;listen' {
            break
        }
        'sockkit;help;udp-listen' {
            break
        }
        'sockkit;help;udp-send' {
            break
        }
        'sockkit;help;lab-client' {
            break
        }
        'sockkit;help;lab-server' {
            break
        }
        'sockkit;help;relay' {
            break
        }
        'sockkit;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
