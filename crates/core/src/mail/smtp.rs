//! A small SMTP client for a relay on the local network (a mail server or a sidecar that
//! handles TLS and onward delivery): EHLO, MAIL FROM, RCPT TO, DATA, QUIT, with a timeout.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    pub host: String,
    pub port: u16,
}

async fn reply(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Result<u16, String> {
    loop {
        let mut line = String::new();
        let read = reader
            .read_line(&mut line)
            .await
            .map_err(|e| e.to_string())?;
        if read == 0 {
            return Err("the relay closed the connection".to_string());
        }
        if line.len() < 4 {
            return Err("the relay sent a reply that is not SMTP".to_string());
        }
        // "250-..." continues; "250 ..." ends the reply.
        if line.as_bytes()[3] != b'-' {
            return line[..3]
                .parse::<u16>()
                .map_err(|_| "the relay sent a reply that is not SMTP".to_string());
        }
    }
}

/// A header value on one line: CR, LF and every other control character become spaces, so
/// a value can never end the header and start another (`Subject: x\r\nBcc: …`).
fn clean_header(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The body as SMTP DATA lines: CRLF, bare LF and bare CR each end a line (a bare CR left in
/// place is read as a line end by some servers, which lets "\r.\r" end the message early and
/// smuggle another), every line ends in CRLF, and a line starting with "." gets another.
fn data_lines(body: &str) -> String {
    let mut out = String::new();
    let normalised = body.replace("\r\n", "\n").replace('\r', "\n");
    // A final line end ends the last line; it does not start another.
    let text = normalised.strip_suffix('\n').unwrap_or(&normalised);
    if text.is_empty() {
        return out;
    }
    for line in text.split('\n') {
        if line.starts_with('.') {
            out.push('.');
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out
}

impl Relay {
    pub async fn send(
        &self,
        from: &str,
        to: &str,
        subject: &str,
        body: &str,
    ) -> Result<(), String> {
        tokio::time::timeout(
            Duration::from_secs(20),
            self.exchange(from, to, subject, body),
        )
        .await
        .map_err(|_| "the relay did not answer in time".to_string())?
    }

    async fn exchange(
        &self,
        from: &str,
        to: &str,
        subject: &str,
        body: &str,
    ) -> Result<(), String> {
        if [from, to]
            .iter()
            .any(|address| address.contains(['\r', '\n', '<', '>']))
        {
            return Err("an address holds characters SMTP does not allow".to_string());
        }
        let stream = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| format!("cannot reach the relay: {e}"))?;
        let (read, mut write) = stream.into_split();
        let mut reader = BufReader::new(read);
        let expect = |code: u16, wanted: u16, step: &str| {
            if code == wanted {
                Ok(())
            } else {
                Err(format!("the relay refused {step} ({code})"))
            }
        };
        expect(reply(&mut reader).await?, 220, "the connection")?;
        for (command, wanted, name) in [
            ("EHLO learnloop\r\n".to_string(), 250, "EHLO"),
            (format!("MAIL FROM:<{from}>\r\n"), 250, "the sender"),
            (format!("RCPT TO:<{to}>\r\n"), 250, "the recipient"),
            ("DATA\r\n".to_string(), 354, "DATA"),
        ] {
            write
                .write_all(command.as_bytes())
                .await
                .map_err(|e| e.to_string())?;
            expect(reply(&mut reader).await?, wanted, name)?;
        }
        let mut message = format!(
            "From: <{from}>\r\nTo: <{to}>\r\nSubject: {}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
            clean_header(subject)
        );
        message.push_str(&data_lines(body));
        message.push_str(".\r\n");
        write
            .write_all(message.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        expect(reply(&mut reader).await?, 250, "the message")?;
        let _ = write.write_all(b"QUIT\r\n").await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpListener;

    use super::Relay;

    /// A relay that accepts one message and returns what it received.
    async fn fake_relay() -> (u16, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let task = tokio::spawn(async move {
            let Ok((stream, _)) = listener.accept().await else {
                return String::new();
            };
            let (read, mut write) = stream.into_split();
            let mut reader = BufReader::new(read);
            let mut received = String::new();
            let _ = write.write_all(b"220 fake ready\r\n").await;
            let mut in_data = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                    break;
                }
                received.push_str(&line);
                let reply: &[u8] = if in_data {
                    if line == ".\r\n" {
                        in_data = false;
                        b"250 queued\r\n"
                    } else {
                        continue;
                    }
                } else if line.starts_with("EHLO") {
                    b"250-fake\r\n250 8BITMIME\r\n"
                } else if line.starts_with("DATA") {
                    in_data = true;
                    b"354 go on\r\n"
                } else if line.starts_with("QUIT") {
                    let _ = write.write_all(b"221 bye\r\n").await;
                    break;
                } else {
                    b"250 ok\r\n"
                };
                let _ = write.write_all(reply).await;
            }
            received
        });
        (port, task)
    }

    #[tokio::test]
    async fn a_message_goes_through_the_relay_with_dots_stuffed() {
        let (port, task) = fake_relay().await;
        let relay = Relay {
            host: "127.0.0.1".to_string(),
            port,
        };
        let sent = relay
            .send(
                "learnloop@fernbridge.example",
                "lead@fernbridge.example",
                "Overdue:\r\nBcc: x",
                "line one\n.hidden\nend",
            )
            .await;
        assert_eq!(sent, Ok(()));
        let received = task.await.unwrap_or_default();
        assert!(received.contains("MAIL FROM:<learnloop@fernbridge.example>"));
        assert!(received.contains("RCPT TO:<lead@fernbridge.example>"));
        assert!(
            received.contains("Subject: Overdue:  Bcc: x\r\n"),
            "no header injection: {received}"
        );
        assert!(received.contains("\r\n..hidden\r\n"), "dot-stuffed");
    }

    #[test]
    fn bare_carriage_returns_end_lines_and_cannot_end_the_message() {
        // "\r.\r" is read as the end of DATA by some servers: here it is a stuffed line.
        let lines = super::data_lines("first\r.\rMAIL FROM:<x@evil.example>\r\nlast\n");
        assert!(!lines.replace("\r\n", "").contains('\r'), "{lines:?}");
        assert!(
            !lines.contains("\r\n.\r\n"),
            "no bare end of data: {lines:?}"
        );
        assert!(lines.contains("\r\n..\r\n"), "stuffed: {lines:?}");
        assert!(lines.starts_with("first\r\n"));
        assert!(lines.ends_with("\r\nlast\r\n"), "{lines:?}");
    }

    #[test]
    fn header_values_stay_on_one_line() {
        let subject = super::clean_header("Overdue\rBcc: a@evil.example\nX: \u{0}y");
        assert!(!subject.contains(['\r', '\n', '\u{0}']), "{subject:?}");
        assert_eq!(subject, "Overdue Bcc: a@evil.example X:  y");
    }

    #[tokio::test]
    async fn an_address_that_would_inject_a_header_is_refused() {
        let relay = Relay {
            host: "127.0.0.1".to_string(),
            port: 9,
        };
        for to in [
            "c@d.example\r\nBcc: x@evil.example",
            "c@d.example\rX",
            "c@d.example>",
        ] {
            let refused = relay.send("a@b.example", to, "s", "b").await;
            assert_eq!(
                refused,
                Err("an address holds characters SMTP does not allow".to_string())
            );
        }
    }

    #[tokio::test]
    async fn an_unreachable_relay_is_an_error_not_a_panic() {
        let relay = Relay {
            host: "127.0.0.1".to_string(),
            port: 9,
        };
        assert!(
            relay
                .send("a@b.example", "c@d.example", "s", "b")
                .await
                .is_err()
        );
    }
}
