//! Email over SMTP (lettre), when `ORDO_SMTP_URL` is set.

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use ordo_contracts::identity::Contact;

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer sending through the server at `url` (`smtp://[user:password@]host[:port]`)
    /// as `from` (`Name <address>`).
    ///
    /// # Errors
    /// A URL or sender that does not parse.
    pub fn new(url: &str, from: &str) -> Result<Mailer, String> {
        let rest = url
            .strip_prefix("smtp://")
            .ok_or("smtp_url: must be an smtp:// URL")?
            .trim_end_matches('/');
        let (credentials, address) = match rest.rsplit_once('@') {
            Some((userinfo, address)) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                (
                    Some(Credentials::new(user.to_owned(), password.to_owned())),
                    address,
                )
            }
            None => (None, rest),
        };
        let (host, port) = match address.rsplit_once(':') {
            Some((host, port)) => (host, port.parse::<u16>().map_err(|_| "smtp_url: bad port")?),
            None => (address, 25),
        };
        if host.is_empty() {
            return Err("smtp_url: no host".into());
        }
        // Plain SMTP, as to a relay on the same host or network; TLS comes with smtps://.
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port);
        if let Some(credentials) = credentials {
            builder = builder.credentials(credentials);
        }
        let transport = builder.build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| format!("smtp_from: {e}"))?;
        Ok(Mailer { transport, from })
    }

    /// # Errors
    /// The message cannot be built, or the server refuses it or cannot be reached.
    pub async fn send(&self, to: &Contact, subject: &str, body: &str) -> Result<(), String> {
        let to = Mailbox::new(
            Some(to.name.clone()),
            to.email.parse().map_err(|e| format!("recipient: {e}"))?,
        );
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .body(body.to_owned())
            .map_err(|e| format!("message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
