# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_sockkit_global_optspecs
    string join \n h/help V/version
end

function __fish_sockkit_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_sockkit_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_sockkit_using_subcommand
    set -l cmd (__fish_sockkit_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c sockkit -n "__fish_sockkit_needs_command" -s h -l help -d 'Print help'
complete -c sockkit -n "__fish_sockkit_needs_command" -s V -l version -d 'Print version'
complete -c sockkit -n "__fish_sockkit_needs_command" -f -a "connect" -d 'Connect to a TCP server (or a Unix socket, -U) and relay stdin to it and its data to stdout'
complete -c sockkit -n "__fish_sockkit_needs_command" -f -a "listen" -d 'Listen for TCP clients (or on a Unix socket, -U) and relay stdin to them and their data to stdout'
complete -c sockkit -n "__fish_sockkit_needs_command" -f -a "udp-listen" -d 'Receive UDP datagrams (or Unix datagrams, -U) from any number of senders and answer the most recent one'
complete -c sockkit -n "__fish_sockkit_needs_command" -f -a "udp-send" -d 'Send UDP datagrams (or Unix datagrams, -U) and wait for the replies'
complete -c sockkit -n "__fish_sockkit_needs_command" -f -a "lab-client" -d 'Play the student\'s side of the socket-lab pickle handshake'
complete -c sockkit -n "__fish_sockkit_needs_command" -f -a "lab-server" -d 'Run the socket-lab server: many students at once, and no bad client can stop it'
complete -c sockkit -n "__fish_sockkit_needs_command" -f -a "relay" -d 'Forward a TCP port to a target, and show what passes both ways'
complete -c sockkit -n "__fish_sockkit_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s U -l unix -d 'Connect to the Unix stream socket at PATH instead of HOST PORT (@NAME: Linux\'s abstract namespace)' -r -F
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s s -l source -d 'Source address to connect from' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s p -l source-port -d 'Source port to connect from' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s w -l connect-timeout -d 'Give up a connection attempt, and with --tls its handshake, after this long (500ms, 3s, 2m; a bare number is seconds)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l retry -d 'Keep retrying a refused connection (with -U, also a missing socket file) for this long (wait for a server to start)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s i -l idle-timeout -d 'Close a connection after this long without data in either direction (exit 1 when it was the only one)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s q -l quit-after-eof -d 'Quit this many seconds after stdin ends, even if the peer is still open (0 = at once; one connection only, not with -k)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l ca -l ssl-trustfile -d 'connect: trust the certificate authorities in this PEM file instead of the system\'s' -r -F
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l pin -d 'connect: accept exactly the server certificate with this SHA-256 digest, `sha256:HEX`, as `listen --tls` prints it (repeatable); the handshake\'s signatures are still checked' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l sni -l ssl-servername -d 'connect: the server name to send and to check the certificate against [default: HOST, unless it is an IP address]' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l alpn -l ssl-alpn -d 'An ALPN protocol to offer (connect) or accept (listen), in order of preference (repeatable)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l cert -l ssl-cert -d 'Certificate chain in PEM: the server\'s (listen) or a client certificate (connect); with --key' -r -F
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l key -l ssl-key -d 'The private key of --cert, in PEM' -r -F
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l client-ca -d 'listen: require client certificates issued by the authorities in this PEM file' -r -F
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l mode -d 'How to show received data' -r -f -a "raw\t'Bytes exactly as received'
hex\t'A hex dump with offsets and an ASCII column, like `hexdump -C`'
pickle\t'Decode Python pickles in the stream and print each as Python\'s repr() would'"
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l framing -d 'How pickles are delimited in the stream (--mode pickle)' -r -f -a "stop\t'Pickles back to back; each ends at its STOP opcode (what the socket labs send)'
len32\t'Each pickle after a 4-byte big-endian length, as Python\'s multiprocessing.connection sends'"
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l max-message -d 'Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l send -d 'How to turn input into bytes: raw, hex (one line of hex digits per message) or pickle (one Python literal per line, sent as a pickle)' -r -f -a "raw\t'Bytes exactly as read'
hex\t'Each line is hex digits (spaces allowed), sent as the bytes they spell'
pickle\t'Each line is a Python literal, sent as one pickle'"
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l pickle-protocol -d 'Pickle protocol for --send pickle (0 to 5; 4 is what Python 3.8 to 3.13 write, 3 suits Python 3.0+)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s 4 -d 'Use IPv4 only'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s 6 -d 'Use IPv6 only'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s n -l numeric -d 'Numeric addresses only: never resolve names'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s z -l zero-io -d 'Zero-I/O mode: report which ports accept a connection, send nothing (so the relay flags -q, -i, --no-shutdown, --send-only, --recv-only, --send, -C, -I are refused with it)'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l no-shutdown -d 'Do not half-close the connection when stdin ends'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l send-only -d 'Only send: ignore what the peer sends, quit when stdin ends'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l recv-only -d 'Only receive: do not read stdin'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s v -l verbose -d 'Say what happens on stderr: connections, half-closes, transfer summaries'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l progress -d 'Show a live byte count and rate on stderr (when it is a terminal)'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l tls -l ssl -d 'Use TLS (1.2 or 1.3). connect verifies the server\'s certificate against the system\'s trusted authorities and the host name; listen uses --cert/--key, or makes a self-signed certificate and prints the --pin a client needs'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l insecure -d 'connect: do not verify the server\'s certificate at all (a warning says so): anyone on the path can read and change the data'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s x -d 'Short for --mode hex'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s I -l interactive -d 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l no-interactive -d 'Never open the line editor, even on a terminal: read stdin as a plain stream'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l no-history -d 'Do not read or write the REPL history file'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s C -l crlf -d 'Send line endings as CRLF (LF becomes CR LF)'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s p -l port -d 'Port to listen on (for nc-traditional habits: `listen -p 12345`)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s U -l unix -d 'Listen on a Unix stream socket at PATH instead of a TCP port (@NAME: Linux\'s abstract namespace). A stale socket file there is replaced; the file is removed on exit' -r -F
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l unix-mode -d 'Permissions of the -U socket file, in octal (660: owner and group may connect) [default: as the umask leaves them]' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s m -l max-conns -d 'Most clients served at once with -k; extra clients are closed' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l allow -d 'Accept only clients from these addresses or CIDR ranges (comma-separated, repeatable)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l deny -d 'Refuse clients from these addresses or CIDR ranges (comma-separated, repeatable)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s i -l idle-timeout -d 'Close a connection after this long without data in either direction (exit 1 when it was the only one)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s q -l quit-after-eof -d 'Quit this many seconds after stdin ends, even if the peer is still open (0 = at once; one connection only, not with -k)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l ca -l ssl-trustfile -d 'connect: trust the certificate authorities in this PEM file instead of the system\'s' -r -F
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l pin -d 'connect: accept exactly the server certificate with this SHA-256 digest, `sha256:HEX`, as `listen --tls` prints it (repeatable); the handshake\'s signatures are still checked' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l sni -l ssl-servername -d 'connect: the server name to send and to check the certificate against [default: HOST, unless it is an IP address]' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l alpn -l ssl-alpn -d 'An ALPN protocol to offer (connect) or accept (listen), in order of preference (repeatable)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l cert -l ssl-cert -d 'Certificate chain in PEM: the server\'s (listen) or a client certificate (connect); with --key' -r -F
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l key -l ssl-key -d 'The private key of --cert, in PEM' -r -F
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l client-ca -d 'listen: require client certificates issued by the authorities in this PEM file' -r -F
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l mode -d 'How to show received data' -r -f -a "raw\t'Bytes exactly as received'
hex\t'A hex dump with offsets and an ASCII column, like `hexdump -C`'
pickle\t'Decode Python pickles in the stream and print each as Python\'s repr() would'"
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l framing -d 'How pickles are delimited in the stream (--mode pickle)' -r -f -a "stop\t'Pickles back to back; each ends at its STOP opcode (what the socket labs send)'
len32\t'Each pickle after a 4-byte big-endian length, as Python\'s multiprocessing.connection sends'"
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l max-message -d 'Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l send -d 'How to turn input into bytes: raw, hex (one line of hex digits per message) or pickle (one Python literal per line, sent as a pickle)' -r -f -a "raw\t'Bytes exactly as read'
hex\t'Each line is hex digits (spaces allowed), sent as the bytes they spell'
pickle\t'Each line is a Python literal, sent as one pickle'"
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l pickle-protocol -d 'Pickle protocol for --send pickle (0 to 5; 4 is what Python 3.8 to 3.13 write, 3 suits Python 3.0+)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s l -d 'Accepted and ignored, so `sockkit listen -l 12345` works like `nc -l 12345`'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s 4 -d 'Use IPv4 only'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s 6 -d 'Use IPv6 only'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s n -l numeric -d 'Numeric addresses only: never resolve names'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s k -l keep-open -d 'Keep listening: serve many clients at once'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l echo -d 'Send every client\'s data back to it (and print it); stdin is not read, so the flags about stdin (-q, --no-shutdown, --send-only, --send, -C, -I) are refused with it'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l broker -d 'Relay each client\'s data to all other clients (implies -k)'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l chat -d 'Like --broker, with a `<clientN>` prefix on each line and control characters (C0, C1, bidi overrides) escaped'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l no-shutdown -d 'Do not half-close the connection when stdin ends'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l send-only -d 'Only send: ignore what the peer sends, quit when stdin ends'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l recv-only -d 'Only receive: do not read stdin'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s v -l verbose -d 'Say what happens on stderr: connections, half-closes, transfer summaries'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l progress -d 'Show a live byte count and rate on stderr (when it is a terminal)'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l tls -l ssl -d 'Use TLS (1.2 or 1.3). connect verifies the server\'s certificate against the system\'s trusted authorities and the host name; listen uses --cert/--key, or makes a self-signed certificate and prints the --pin a client needs'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l insecure -d 'connect: do not verify the server\'s certificate at all (a warning says so): anyone on the path can read and change the data'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s x -d 'Short for --mode hex'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s I -l interactive -d 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l no-interactive -d 'Never open the line editor, even on a terminal: read stdin as a plain stream'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l no-history -d 'Do not read or write the REPL history file'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s C -l crlf -d 'Send line endings as CRLF (LF becomes CR LF)'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -s p -l port -d 'Port to listen on (for nc-traditional habits)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -s U -l unix -d 'Receive on a Unix datagram socket at PATH instead of a UDP port (@NAME: Linux\'s abstract namespace). A stale socket file there is replaced; the file is removed on exit' -r -F
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -l unix-mode -d 'Permissions of the -U socket file, in octal (660: owner and group may send) [default: as the umask leaves them]' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -l count -d 'Exit 0 after this many datagrams' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -l rcvbuf -d 'Receive buffer of the socket (SO_RCVBUF), in bytes or with K, M or G: datagrams that arrive while it is full are dropped by the kernel. The system caps it (net.core.rmem_max on Linux); a note says so when it gives less [default: 4M]' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -l mode -d 'How to show received data' -r -f -a "raw\t'Bytes exactly as received'
hex\t'A hex dump with offsets and an ASCII column, like `hexdump -C`'
pickle\t'Decode Python pickles in the stream and print each as Python\'s repr() would'"
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -l framing -d 'How pickles are delimited in the stream (--mode pickle)' -r -f -a "stop\t'Pickles back to back; each ends at its STOP opcode (what the socket labs send)'
len32\t'Each pickle after a 4-byte big-endian length, as Python\'s multiprocessing.connection sends'"
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -l max-message -d 'Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -l send -d 'How to turn input into bytes: raw, hex (one line of hex digits per message) or pickle (one Python literal per line, sent as a pickle)' -r -f -a "raw\t'Bytes exactly as read'
hex\t'Each line is hex digits (spaces allowed), sent as the bytes they spell'
pickle\t'Each line is a Python literal, sent as one pickle'"
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -l pickle-protocol -d 'Pickle protocol for --send pickle (0 to 5; 4 is what Python 3.8 to 3.13 write, 3 suits Python 3.0+)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -s l -d 'Accepted and ignored, so `sockkit udp-listen -l 12345` works'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -s u -d 'Accepted and ignored, so `sockkit udp-listen -u 12345` works like `nc -u -l 12345`'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -s 4 -d 'Use IPv4 only'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -s 6 -d 'Use IPv6 only'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -s n -l numeric -d 'Numeric addresses only: never resolve names'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -l show-sender -d 'Prefix each datagram with the address it came from'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -l echo -d 'Send every datagram back to its sender'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -s v -l verbose -d 'Say what happens on stderr: where it listens, each datagram\'s sender and size, and every second and at the end how many datagrams came and how many the kernel dropped (stdout is unchanged; --show-sender puts the sender there)'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -s x -d 'Short for --mode hex'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -s I -l interactive -d 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -l no-interactive -d 'Never open the line editor, even on a terminal: read stdin as a plain stream'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -l no-history -d 'Do not read or write the REPL history file'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -s C -l crlf -d 'Send line endings as CRLF (LF becomes CR LF)'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -s U -l unix -d 'Send to the Unix datagram socket at PATH instead of HOST PORT (@NAME: Linux\'s abstract namespace); replies come back to a socket of its own' -r -F
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -l retry -d 'Keep resending the first datagram while the port is closed (with -U: wait while the socket is missing), for this long (wait for a listener to start)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -l wait -d 'Stop waiting for replies after this long without one (0 = do not wait)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -l count -d 'Stop after this many replies' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -l size -d 'Cut stdin into datagrams of SIZE bytes (the last one may be shorter) instead of one datagram per line: a stream, to measure a link or a server' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -l rate -d 'Send at most this many datagrams a second, evenly spaced (1000, 1000/s, 20/ms, 30/m)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -l mode -d 'How to show received data' -r -f -a "raw\t'Bytes exactly as received'
hex\t'A hex dump with offsets and an ASCII column, like `hexdump -C`'
pickle\t'Decode Python pickles in the stream and print each as Python\'s repr() would'"
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -l framing -d 'How pickles are delimited in the stream (--mode pickle)' -r -f -a "stop\t'Pickles back to back; each ends at its STOP opcode (what the socket labs send)'
len32\t'Each pickle after a 4-byte big-endian length, as Python\'s multiprocessing.connection sends'"
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -l max-message -d 'Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -l send -d 'How to turn input into bytes: raw, hex (one line of hex digits per message) or pickle (one Python literal per line, sent as a pickle)' -r -f -a "raw\t'Bytes exactly as read'
hex\t'Each line is hex digits (spaces allowed), sent as the bytes they spell'
pickle\t'Each line is a Python literal, sent as one pickle'"
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -l pickle-protocol -d 'Pickle protocol for --send pickle (0 to 5; 4 is what Python 3.8 to 3.13 write, 3 suits Python 3.0+)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -s 4 -d 'Use IPv4 only'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -s 6 -d 'Use IPv6 only'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -s n -l numeric -d 'Numeric addresses only: never resolve names'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -l show-sender -d 'Prefix each reply with the address it came from'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -s v -l verbose -d 'Say what happens on stderr, and at the end how many datagrams were sent and received'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -s x -d 'Short for --mode hex'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -s I -l interactive -d 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -l no-interactive -d 'Never open the line editor, even on a terminal: read stdin as a plain stream'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -l no-history -d 'Do not read or write the REPL history file'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -s C -l crlf -d 'Send line endings as CRLF (LF becomes CR LF)'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -l ip -d 'Server address' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -l port -d 'Server port' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -s U -l unix -d 'Connect to a lab server on the Unix stream socket at PATH instead of --ip/--port (@NAME: Linux\'s abstract namespace)' -r -F
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -l name -d 'Student name' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -l github -d 'GitHub user name' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -l sid -d 'Student id' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -l retry -d 'Keep retrying a refused connection for this long (wait for a server to start)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -l ack-timeout -d 'Give up waiting for the client id or the acknowledgement after this long (default: wait as a Python client does, with a note on stderr after 5 s)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -s w -l connect-timeout -d 'Give up connecting after this long' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -l pickle-protocol -d 'Pickle protocol of the student dict (Python 3.8+ sends 4)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -l mode -d 'How to show received data' -r -f -a "raw\t'Bytes exactly as received'
hex\t'A hex dump with offsets and an ASCII column, like `hexdump -C`'
pickle\t'Decode Python pickles in the stream and print each as Python\'s repr() would'"
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -l framing -d 'How pickles are delimited in the stream (--mode pickle)' -r -f -a "stop\t'Pickles back to back; each ends at its STOP opcode (what the socket labs send)'
len32\t'Each pickle after a 4-byte big-endian length, as Python\'s multiprocessing.connection sends'"
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -l max-message -d 'Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -s v -l verbose -d 'Show every message exchanged, each direction labelled'
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -s I -l interactive -d 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal'
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -l no-interactive -d 'Never open the line editor, even on a terminal: read stdin as a plain stream'
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -l no-history -d 'Do not read or write the REPL history file'
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -s x -d 'Short for --mode hex'
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-server" -l host -d 'Address to listen on' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-server" -l port -d 'Port to listen on (0 picks a free one and prints it)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-server" -s U -l unix -d 'Listen on a Unix stream socket at PATH instead of --host/--port (@NAME: Linux\'s abstract namespace); each client\'s id is then its number, 1, 2, 3... A stale socket file there is replaced; the file is removed on exit' -r -F
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-server" -l unix-mode -d 'Permissions of the -U socket file, in octal (660: owner and group may connect) [default: as the umask leaves them]' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-server" -l handshake-timeout -d 'Deadline for a student record: the first must be complete this long after the client connected, each later one this long after its first bytes, however slowly they arrive. Silence between records is never a reason to close (see --idle-timeout)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-server" -l idle-timeout -d 'Close an acknowledged client that sends nothing for this long (default: never, as the original server keeps it)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-server" -l roster -d 'Append one CSV row per acknowledged student to this file' -r -F
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-server" -s m -l max-conns -d 'Most clients connected at once; extra clients are closed' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-server" -l allow -d 'Accept only clients from these addresses or CIDR ranges (comma-separated, repeatable)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-server" -l deny -d 'Refuse clients from these addresses or CIDR ranges (comma-separated, repeatable)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-server" -l max-message -d 'Largest record accepted from a client, in bytes. The original server reads one recv(1024), so no longer record ever worked with it; the default leaves eight times that' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-server" -l strict -d 'Accept only records with exactly the three keys, the name and GitHub user name as str and the sid as int (the original server takes any values and ignores extra keys)'
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-server" -s v -l verbose -d 'Show every message exchanged'
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-server" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -s m -l max-conns -d 'Most clients served at once; extra clients are closed' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -l allow -d 'Accept only clients from these addresses or CIDR ranges (comma-separated, repeatable)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -l deny -d 'Refuse clients from these addresses or CIDR ranges (comma-separated, repeatable)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -s w -l connect-timeout -d 'Give up connecting to the target after this long (500ms, 3s, 2m; a bare number is seconds)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -s i -l idle-timeout -d 'Close a connection after this long without data in either direction' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -l cert -d '--listen-tls: the certificate chain clients are shown, in PEM; with --key' -r -F
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -l key -d '--listen-tls: the private key of --cert, in PEM' -r -F
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -l client-ca -d '--listen-tls: require client certificates issued by the authorities in this PEM file' -r -F
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -l ca -d '--target-tls: trust the certificate authorities in this PEM file instead of the system\'s' -r -F
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -l pin -d '--target-tls: accept exactly the target certificate with this SHA-256 digest (repeatable)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -l sni -d '--target-tls: the server name to send and check [default: TARGET\'s host, unless an address]' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -l mode -d 'How to show received data' -r -f -a "raw\t'Bytes exactly as received'
hex\t'A hex dump with offsets and an ASCII column, like `hexdump -C`'
pickle\t'Decode Python pickles in the stream and print each as Python\'s repr() would'"
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -l framing -d 'How pickles are delimited in the stream (--mode pickle)' -r -f -a "stop\t'Pickles back to back; each ends at its STOP opcode (what the socket labs send)'
len32\t'Each pickle after a 4-byte big-endian length, as Python\'s multiprocessing.connection sends'"
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -l max-message -d 'Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -s 4 -d 'Use IPv4 only'
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -s 6 -d 'Use IPv6 only'
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -s n -l numeric -d 'Numeric addresses only: never resolve names'
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -s k -l keep-open -d 'Accepted for nc habits: relay always serves many clients at once'
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -l show -d 'With --mode raw, show what passes too (by default a raw relay only forwards)'
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -l listen-tls -d 'Serve TLS to clients, with --cert/--key or a self-signed certificate whose --pin is printed'
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -l target-tls -d 'Speak TLS to the target, verifying its certificate (the system\'s authorities, --ca or --pin) and its name (TARGET\'s host, or --sni)'
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -l insecure -d '--target-tls: do not verify the target\'s certificate at all (a warning says so)'
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -s v -l verbose -d 'Say on stderr when each connection opens and closes: who closed first, bytes each way'
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -s x -d 'Short for --mode hex'
complete -c sockkit -n "__fish_sockkit_using_subcommand relay" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockkit -n "__fish_sockkit_using_subcommand help; and not __fish_seen_subcommand_from connect listen udp-listen udp-send lab-client lab-server relay help" -f -a "connect" -d 'Connect to a TCP server (or a Unix socket, -U) and relay stdin to it and its data to stdout'
complete -c sockkit -n "__fish_sockkit_using_subcommand help; and not __fish_seen_subcommand_from connect listen udp-listen udp-send lab-client lab-server relay help" -f -a "listen" -d 'Listen for TCP clients (or on a Unix socket, -U) and relay stdin to them and their data to stdout'
complete -c sockkit -n "__fish_sockkit_using_subcommand help; and not __fish_seen_subcommand_from connect listen udp-listen udp-send lab-client lab-server relay help" -f -a "udp-listen" -d 'Receive UDP datagrams (or Unix datagrams, -U) from any number of senders and answer the most recent one'
complete -c sockkit -n "__fish_sockkit_using_subcommand help; and not __fish_seen_subcommand_from connect listen udp-listen udp-send lab-client lab-server relay help" -f -a "udp-send" -d 'Send UDP datagrams (or Unix datagrams, -U) and wait for the replies'
complete -c sockkit -n "__fish_sockkit_using_subcommand help; and not __fish_seen_subcommand_from connect listen udp-listen udp-send lab-client lab-server relay help" -f -a "lab-client" -d 'Play the student\'s side of the socket-lab pickle handshake'
complete -c sockkit -n "__fish_sockkit_using_subcommand help; and not __fish_seen_subcommand_from connect listen udp-listen udp-send lab-client lab-server relay help" -f -a "lab-server" -d 'Run the socket-lab server: many students at once, and no bad client can stop it'
complete -c sockkit -n "__fish_sockkit_using_subcommand help; and not __fish_seen_subcommand_from connect listen udp-listen udp-send lab-client lab-server relay help" -f -a "relay" -d 'Forward a TCP port to a target, and show what passes both ways'
complete -c sockkit -n "__fish_sockkit_using_subcommand help; and not __fish_seen_subcommand_from connect listen udp-listen udp-send lab-client lab-server relay help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
