
use builtin;
use str;

set edit:completion:arg-completer[sockkit] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'sockkit'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'sockkit'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand connect 'Connect to a TCP server and relay stdin to it and its data to stdout'
            cand listen 'Listen for TCP clients and relay stdin to them and their data to stdout'
            cand udp-listen 'Receive UDP datagrams from any number of senders and answer the most recent one'
            cand udp-send 'Send UDP datagrams and wait for the replies'
            cand lab-client 'Play the student''s side of the socket-lab pickle handshake'
            cand lab-server 'Run the socket-lab server: many students at once, and no bad client can stop it'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sockkit;connect'= {
            cand -s 'Source address to connect from'
            cand --source 'Source address to connect from'
            cand -p 'Source port to connect from'
            cand --source-port 'Source port to connect from'
            cand -w 'Give up a connection attempt after this long (500ms, 3s, 2m; a bare number is seconds)'
            cand --connect-timeout 'Give up a connection attempt after this long (500ms, 3s, 2m; a bare number is seconds)'
            cand --retry 'Keep retrying a refused connection for this long (wait for a server to start)'
            cand -i 'Close the connection after this long without data in either direction (exit 1)'
            cand --idle-timeout 'Close the connection after this long without data in either direction (exit 1)'
            cand -q 'Quit this many seconds after stdin ends, even if the peer is still open (0 = at once)'
            cand --quit-after-eof 'Quit this many seconds after stdin ends, even if the peer is still open (0 = at once)'
            cand --mode 'How to show received data'
            cand --framing 'How pickles are delimited in the stream (--mode pickle)'
            cand --max-message 'Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped'
            cand --send 'How to turn input into bytes: raw, hex (one line of hex digits per message) or pickle (one Python literal per line, sent as a pickle)'
            cand --pickle-protocol 'Pickle protocol for --send pickle (0 to 5; 4 is what Python 3.8 to 3.13 write, 3 suits Python 3.0+)'
            cand -4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand -n 'Numeric addresses only: never resolve names'
            cand --numeric 'Numeric addresses only: never resolve names'
            cand --no-shutdown 'Do not half-close the connection when stdin ends'
            cand --send-only 'Only send: ignore what the peer sends, quit when stdin ends'
            cand --recv-only 'Only receive: do not read stdin'
            cand -z 'Zero-I/O mode: report which ports accept a connection, send nothing'
            cand --zero-io 'Zero-I/O mode: report which ports accept a connection, send nothing'
            cand -v 'Say what happens on stderr: connections, half-closes, transfer summaries'
            cand --verbose 'Say what happens on stderr: connections, half-closes, transfer summaries'
            cand --progress 'Show a live byte count and rate on stderr (when it is a terminal)'
            cand -x 'Short for --mode hex'
            cand -I 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal'
            cand --interactive 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal'
            cand --no-interactive 'Never open the line editor, even on a terminal: read stdin as a plain stream'
            cand --no-history 'Do not read or write the REPL history file'
            cand -C 'Send line endings as CRLF (LF becomes CR LF)'
            cand --crlf 'Send line endings as CRLF (LF becomes CR LF)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'sockkit;listen'= {
            cand -p 'Port to listen on (for nc-traditional habits: `listen -p 12345`)'
            cand --port 'Port to listen on (for nc-traditional habits: `listen -p 12345`)'
            cand -m 'Most clients served at once with -k; extra clients are closed'
            cand --max-conns 'Most clients served at once with -k; extra clients are closed'
            cand --allow 'Accept only clients from these addresses or CIDR ranges (comma-separated, repeatable)'
            cand --deny 'Refuse clients from these addresses or CIDR ranges (comma-separated, repeatable)'
            cand -i 'Close a connection after this long without data in either direction'
            cand --idle-timeout 'Close a connection after this long without data in either direction'
            cand -q 'Quit this many seconds after stdin ends (single-client mode)'
            cand --quit-after-eof 'Quit this many seconds after stdin ends (single-client mode)'
            cand --mode 'How to show received data'
            cand --framing 'How pickles are delimited in the stream (--mode pickle)'
            cand --max-message 'Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped'
            cand --send 'How to turn input into bytes: raw, hex (one line of hex digits per message) or pickle (one Python literal per line, sent as a pickle)'
            cand --pickle-protocol 'Pickle protocol for --send pickle (0 to 5; 4 is what Python 3.8 to 3.13 write, 3 suits Python 3.0+)'
            cand -l 'Accepted and ignored, so `sockkit listen -l 12345` works like `nc -l 12345`'
            cand -4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand -n 'Numeric addresses only: never resolve names'
            cand --numeric 'Numeric addresses only: never resolve names'
            cand -k 'Keep listening: serve many clients at once'
            cand --keep-open 'Keep listening: serve many clients at once'
            cand --echo 'Send every client''s data back to it'
            cand --broker 'Relay each client''s data to all other clients (implies -k)'
            cand --chat 'Like --broker, with a `<clientN>` prefix on each line and control characters escaped'
            cand --no-shutdown 'Do not half-close the connection when stdin ends'
            cand --send-only 'Only send: ignore what clients send'
            cand --recv-only 'Only receive: do not read stdin'
            cand -v 'Say what happens on stderr: connections, half-closes, transfer summaries'
            cand --verbose 'Say what happens on stderr: connections, half-closes, transfer summaries'
            cand --progress 'Show a live byte count and rate on stderr (when it is a terminal)'
            cand -x 'Short for --mode hex'
            cand -I 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal'
            cand --interactive 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal'
            cand --no-interactive 'Never open the line editor, even on a terminal: read stdin as a plain stream'
            cand --no-history 'Do not read or write the REPL history file'
            cand -C 'Send line endings as CRLF (LF becomes CR LF)'
            cand --crlf 'Send line endings as CRLF (LF becomes CR LF)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'sockkit;udp-listen'= {
            cand -p 'Port to listen on (for nc-traditional habits)'
            cand --port 'Port to listen on (for nc-traditional habits)'
            cand --count 'Exit 0 after this many datagrams'
            cand --mode 'How to show received data'
            cand --framing 'How pickles are delimited in the stream (--mode pickle)'
            cand --max-message 'Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped'
            cand --send 'How to turn input into bytes: raw, hex (one line of hex digits per message) or pickle (one Python literal per line, sent as a pickle)'
            cand --pickle-protocol 'Pickle protocol for --send pickle (0 to 5; 4 is what Python 3.8 to 3.13 write, 3 suits Python 3.0+)'
            cand -l 'Accepted and ignored, so `sockkit udp-listen -l 12345` works'
            cand -u 'Accepted and ignored, so `sockkit udp-listen -u 12345` works like `nc -u -l 12345`'
            cand -4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand -n 'Numeric addresses only: never resolve names'
            cand --numeric 'Numeric addresses only: never resolve names'
            cand --show-sender 'Prefix each datagram with the address it came from'
            cand --echo 'Send every datagram back to its sender'
            cand -v 'Say what happens on stderr (implies --show-sender)'
            cand --verbose 'Say what happens on stderr (implies --show-sender)'
            cand -x 'Short for --mode hex'
            cand -I 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal'
            cand --interactive 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal'
            cand --no-interactive 'Never open the line editor, even on a terminal: read stdin as a plain stream'
            cand --no-history 'Do not read or write the REPL history file'
            cand -C 'Send line endings as CRLF (LF becomes CR LF)'
            cand --crlf 'Send line endings as CRLF (LF becomes CR LF)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'sockkit;udp-send'= {
            cand --retry 'Keep resending the first datagram while the port is closed, for this long (wait for a listener to start)'
            cand --wait 'Stop waiting for replies after this long without one (0 = do not wait)'
            cand --count 'Stop after this many replies'
            cand --mode 'How to show received data'
            cand --framing 'How pickles are delimited in the stream (--mode pickle)'
            cand --max-message 'Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped'
            cand --send 'How to turn input into bytes: raw, hex (one line of hex digits per message) or pickle (one Python literal per line, sent as a pickle)'
            cand --pickle-protocol 'Pickle protocol for --send pickle (0 to 5; 4 is what Python 3.8 to 3.13 write, 3 suits Python 3.0+)'
            cand -4 'Use IPv4 only'
            cand -6 'Use IPv6 only'
            cand -n 'Numeric addresses only: never resolve names'
            cand --numeric 'Numeric addresses only: never resolve names'
            cand --show-sender 'Prefix each reply with the address it came from'
            cand -v 'Say what happens on stderr'
            cand --verbose 'Say what happens on stderr'
            cand -x 'Short for --mode hex'
            cand -I 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal'
            cand --interactive 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal'
            cand --no-interactive 'Never open the line editor, even on a terminal: read stdin as a plain stream'
            cand --no-history 'Do not read or write the REPL history file'
            cand -C 'Send line endings as CRLF (LF becomes CR LF)'
            cand --crlf 'Send line endings as CRLF (LF becomes CR LF)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'sockkit;lab-client'= {
            cand --ip 'Server address'
            cand --port 'Server port'
            cand --name 'Student name'
            cand --github 'GitHub user name'
            cand --sid 'Student id'
            cand --retry 'Keep retrying a refused connection for this long (wait for a server to start)'
            cand --ack-timeout 'How long to wait for the acknowledgement'
            cand -w 'Give up connecting after this long'
            cand --connect-timeout 'Give up connecting after this long'
            cand --pickle-protocol 'Pickle protocol of the student dict (Python 3.8+ sends 4)'
            cand --mode 'How to show received data'
            cand --framing 'How pickles are delimited in the stream (--mode pickle)'
            cand --max-message 'Largest pickle accepted, in bytes (--mode pickle); larger ones are reported and skipped'
            cand -v 'Show every message exchanged, each direction labelled'
            cand --verbose 'Show every message exchanged, each direction labelled'
            cand -I 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal'
            cand --interactive 'Type messages in a line editor (history, /commands); the default when stdin and stdout are a terminal'
            cand --no-interactive 'Never open the line editor, even on a terminal: read stdin as a plain stream'
            cand --no-history 'Do not read or write the REPL history file'
            cand -x 'Short for --mode hex'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'sockkit;lab-server'= {
            cand --host 'Address to listen on'
            cand --port 'Port to listen on (0 picks a free one and prints it)'
            cand --handshake-timeout 'Close a client that has not completed its handshake after this long'
            cand --roster 'Append one CSV row per acknowledged student to this file'
            cand -m 'Most clients connected at once; extra clients are closed'
            cand --max-conns 'Most clients connected at once; extra clients are closed'
            cand --allow 'Accept only clients from these addresses or CIDR ranges (comma-separated, repeatable)'
            cand --deny 'Refuse clients from these addresses or CIDR ranges (comma-separated, repeatable)'
            cand --max-message 'Largest message accepted from a client, in bytes'
            cand -v 'Show every message exchanged'
            cand --verbose 'Show every message exchanged'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'sockkit;help'= {
            cand connect 'Connect to a TCP server and relay stdin to it and its data to stdout'
            cand listen 'Listen for TCP clients and relay stdin to them and their data to stdout'
            cand udp-listen 'Receive UDP datagrams from any number of senders and answer the most recent one'
            cand udp-send 'Send UDP datagrams and wait for the replies'
            cand lab-client 'Play the student''s side of the socket-lab pickle handshake'
            cand lab-server 'Run the socket-lab server: many students at once, and no bad client can stop it'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sockkit;help;connect'= {
        }
        &'sockkit;help;listen'= {
        }
        &'sockkit;help;udp-listen'= {
        }
        &'sockkit;help;udp-send'= {
        }
        &'sockkit;help;lab-client'= {
        }
        &'sockkit;help;lab-server'= {
        }
        &'sockkit;help;help'= {
        }
    ]
    $completions[$command]
}
