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
complete -c sockkit -n "__fish_sockkit_needs_command" -f -a "connect" -d 'Connect to a TCP server and relay stdin to it and its data to stdout'
complete -c sockkit -n "__fish_sockkit_needs_command" -f -a "listen" -d 'Listen for TCP clients and relay stdin to them and their data to stdout'
complete -c sockkit -n "__fish_sockkit_needs_command" -f -a "udp-listen" -d 'Receive UDP datagrams from any number of senders and answer the most recent one'
complete -c sockkit -n "__fish_sockkit_needs_command" -f -a "udp-send" -d 'Send UDP datagrams and wait for the replies'
complete -c sockkit -n "__fish_sockkit_needs_command" -f -a "lab-client" -d 'Play the student\'s side of the socket-lab pickle handshake'
complete -c sockkit -n "__fish_sockkit_needs_command" -f -a "lab-server" -d 'Run the socket-lab server: many students at once, and no bad client can stop it'
complete -c sockkit -n "__fish_sockkit_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s s -l source -d 'Source address to connect from' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s p -l source-port -d 'Source port to connect from' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s w -l connect-timeout -d 'Give up a connection attempt after this long (500ms, 3s, 2m; a bare number is seconds)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l retry -d 'Keep retrying a refused connection for this long (wait for a server to start)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s i -l idle-timeout -d 'Close the connection after this long without data in either direction (exit 1)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s q -l quit-after-eof -d 'Quit this many seconds after stdin ends, even if the peer is still open (0 = at once)' -r
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
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l no-shutdown -d 'Do not half-close the connection when stdin ends'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l send-only -d 'Only send: ignore what the peer sends, quit when stdin ends'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l recv-only -d 'Only receive: do not read stdin'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s z -l zero-io -d 'Zero-I/O mode: report which ports accept a connection, send nothing'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s v -l verbose -d 'Say what happens on stderr: connections, half-closes, transfer summaries'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l progress -d 'Show a live byte count and rate on stderr (when it is a terminal)'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s x -d 'Short for --mode hex'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s I -l interactive -d 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l no-interactive -d 'Never open the line editor, even on a terminal: read stdin as a plain stream'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -l no-history -d 'Do not read or write the REPL history file'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s C -l crlf -d 'Send line endings as CRLF (LF becomes CR LF)'
complete -c sockkit -n "__fish_sockkit_using_subcommand connect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s p -l port -d 'Port to listen on (for nc-traditional habits: `listen -p 12345`)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s m -l max-conns -d 'Most clients served at once with -k; extra clients are closed' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l allow -d 'Accept only clients from these addresses or CIDR ranges (comma-separated, repeatable)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l deny -d 'Refuse clients from these addresses or CIDR ranges (comma-separated, repeatable)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s i -l idle-timeout -d 'Close a connection after this long without data in either direction' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s q -l quit-after-eof -d 'Quit this many seconds after stdin ends (single-client mode)' -r
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
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l echo -d 'Send every client\'s data back to it'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l broker -d 'Relay each client\'s data to all other clients (implies -k)'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l chat -d 'Like --broker, with a `<clientN>` prefix on each line and control characters escaped'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l no-shutdown -d 'Do not half-close the connection when stdin ends'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l send-only -d 'Only send: ignore what clients send'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l recv-only -d 'Only receive: do not read stdin'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s v -l verbose -d 'Say what happens on stderr: connections, half-closes, transfer summaries'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l progress -d 'Show a live byte count and rate on stderr (when it is a terminal)'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s x -d 'Short for --mode hex'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s I -l interactive -d 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l no-interactive -d 'Never open the line editor, even on a terminal: read stdin as a plain stream'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -l no-history -d 'Do not read or write the REPL history file'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s C -l crlf -d 'Send line endings as CRLF (LF becomes CR LF)'
complete -c sockkit -n "__fish_sockkit_using_subcommand listen" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -s p -l port -d 'Port to listen on (for nc-traditional habits)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -l count -d 'Exit 0 after this many datagrams' -r
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
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -s v -l verbose -d 'Say what happens on stderr (implies --show-sender)'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -s x -d 'Short for --mode hex'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -s I -l interactive -d 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -l no-interactive -d 'Never open the line editor, even on a terminal: read stdin as a plain stream'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -l no-history -d 'Do not read or write the REPL history file'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -s C -l crlf -d 'Send line endings as CRLF (LF becomes CR LF)'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-listen" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -l retry -d 'Keep resending the first datagram while the port is closed, for this long (wait for a listener to start)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -l wait -d 'Stop waiting for replies after this long without one (0 = do not wait)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -l count -d 'Stop after this many replies' -r
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
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -s v -l verbose -d 'Say what happens on stderr'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -s x -d 'Short for --mode hex'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -s I -l interactive -d 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -l no-interactive -d 'Never open the line editor, even on a terminal: read stdin as a plain stream'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -l no-history -d 'Do not read or write the REPL history file'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -s C -l crlf -d 'Send line endings as CRLF (LF becomes CR LF)'
complete -c sockkit -n "__fish_sockkit_using_subcommand udp-send" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -l ip -d 'Server address' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -l port -d 'Server port' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -l name -d 'Student name' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -l github -d 'GitHub user name' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -l sid -d 'Student id' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -l retry -d 'Keep retrying a refused connection for this long (wait for a server to start)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-client" -l ack-timeout -d 'How long to wait for the acknowledgement' -r
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
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-server" -l handshake-timeout -d 'Close a client that has not completed its handshake after this long' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-server" -l roster -d 'Append one CSV row per acknowledged student to this file' -r -F
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-server" -s m -l max-conns -d 'Most clients connected at once; extra clients are closed' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-server" -l allow -d 'Accept only clients from these addresses or CIDR ranges (comma-separated, repeatable)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-server" -l deny -d 'Refuse clients from these addresses or CIDR ranges (comma-separated, repeatable)' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-server" -l max-message -d 'Largest message accepted from a client, in bytes' -r
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-server" -s v -l verbose -d 'Show every message exchanged'
complete -c sockkit -n "__fish_sockkit_using_subcommand lab-server" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockkit -n "__fish_sockkit_using_subcommand help; and not __fish_seen_subcommand_from connect listen udp-listen udp-send lab-client lab-server help" -f -a "connect" -d 'Connect to a TCP server and relay stdin to it and its data to stdout'
complete -c sockkit -n "__fish_sockkit_using_subcommand help; and not __fish_seen_subcommand_from connect listen udp-listen udp-send lab-client lab-server help" -f -a "listen" -d 'Listen for TCP clients and relay stdin to them and their data to stdout'
complete -c sockkit -n "__fish_sockkit_using_subcommand help; and not __fish_seen_subcommand_from connect listen udp-listen udp-send lab-client lab-server help" -f -a "udp-listen" -d 'Receive UDP datagrams from any number of senders and answer the most recent one'
complete -c sockkit -n "__fish_sockkit_using_subcommand help; and not __fish_seen_subcommand_from connect listen udp-listen udp-send lab-client lab-server help" -f -a "udp-send" -d 'Send UDP datagrams and wait for the replies'
complete -c sockkit -n "__fish_sockkit_using_subcommand help; and not __fish_seen_subcommand_from connect listen udp-listen udp-send lab-client lab-server help" -f -a "lab-client" -d 'Play the student\'s side of the socket-lab pickle handshake'
complete -c sockkit -n "__fish_sockkit_using_subcommand help; and not __fish_seen_subcommand_from connect listen udp-listen udp-send lab-client lab-server help" -f -a "lab-server" -d 'Run the socket-lab server: many students at once, and no bad client can stop it'
complete -c sockkit -n "__fish_sockkit_using_subcommand help; and not __fish_seen_subcommand_from connect listen udp-listen udp-send lab-client lab-server help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
