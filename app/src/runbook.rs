//! The operators' runbook (docs/RUNBOOK.md, built into the binary) as a page at `/runbook`:
//! what every alert of deploy/prometheus/rules.yml means and what to do. Each heading has
//! the anchor GitHub would give it, so an alert's `runbook_url` (`…/runbook#relay-stalled`)
//! and the repository's own links lead to the same section.

use axum::http::header;
use axum::response::IntoResponse;
use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd, html};
use std::sync::OnceLock;

const MARKDOWN: &str = include_str!("../../docs/RUNBOOK.md");

/// `GET /runbook`: the page, rendered once.
pub async fn page() -> impl IntoResponse {
    static PAGE: OnceLock<String> = OnceLock::new();
    let page = PAGE.get_or_init(|| {
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>Ordo runbook</title><style>{STYLE}</style></head>\
             <body><main>{}</main></body></html>",
            render(MARKDOWN)
        )
    });
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        page.as_str(),
    )
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1c1c1c}\
main{max-width:52rem;margin:0 auto;padding:1rem 1.5rem 4rem}\
pre{background:#f3f4f6;padding:.75rem;overflow-x:auto}code{font-size:.92em}\
p code,li code{overflow-wrap:anywhere}\
h3{margin-top:2rem;border-top:1px solid #ddd;padding-top:1rem}";

/// The Markdown as HTML, every heading with its anchor.
fn render(markdown: &str) -> String {
    let mut events = Vec::new();
    let mut heading: Option<(HeadingLevel, Vec<Event<'_>>)> = None;
    for event in Parser::new(markdown) {
        match (event, &mut heading) {
            (Event::Start(Tag::Heading { level, .. }), None) => heading = Some((level, Vec::new())),
            (Event::End(TagEnd::Heading(_)), Some(_)) => {
                let (level, inner) = heading.take().expect("inside a heading");
                let text: String = inner
                    .iter()
                    .filter_map(|e| match e {
                        Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
                        _ => None,
                    })
                    .collect();
                events.push(Event::Html(
                    format!("<{level} id=\"{}\">", anchor(&text)).into(),
                ));
                events.extend(inner);
                events.push(Event::Html(format!("</{level}>").into()));
            }
            (event, Some((_, inner))) => inner.push(event),
            (event, None) => events.push(event),
        }
    }
    let mut out = String::new();
    html::push_html(&mut out, events.into_iter());
    // A long command scrolls sideways: its block takes the focus, so that a keyboard
    // scrolls it too. Text is escaped, so only the renderer's own tags match.
    out.replace("<pre>", "<pre tabindex=\"0\">")
}

/// A heading's anchor as GitHub makes it: lower case, spaces as hyphens, other punctuation
/// dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every alert's `runbook_url` anchor.
    fn anchors_of(text: &str, marker: &str) -> Vec<String> {
        text.lines()
            .filter_map(|line| line.split_once(marker))
            .map(|(_, rest)| {
                rest.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect()
            })
            .collect()
    }

    #[test]
    fn headings_get_the_anchors_github_gives_them() {
        assert_eq!(anchor("High 5xx ratio"), "high-5xx-ratio");
        assert_eq!(
            anchor("Orders waiting for a merchant"),
            "orders-waiting-for-a-merchant"
        );
        assert_eq!(anchor("Back up and restore"), "back-up-and-restore");
        let html = render("# Title\n\n### Relay stalled\n\nText with `code`.\n");
        assert!(
            html.contains("<h3 id=\"relay-stalled\">Relay stalled</h3>"),
            "{html}"
        );
        assert!(html.contains("<code>code</code>"), "{html}");
        let html = render("```sh\nordo backup --to /backups\n```\n");
        assert!(html.contains("<pre tabindex=\"0\">"), "{html}");
    }

    #[test]
    fn every_alert_and_every_console_link_lands_on_a_section() {
        let page = render(MARKDOWN);
        let rules = include_str!("../../deploy/prometheus/rules.yml");
        let console = include_str!("../../web/ops/alerts.js");
        let alerts = anchors_of(rules, "/runbook#");
        let linked = anchors_of(console, "runbook: '");
        assert!(alerts.len() >= 12, "{alerts:?}");
        for anchor in alerts.iter().chain(&linked) {
            assert!(
                page.contains(&format!("id=\"{anchor}\"")),
                "no runbook section #{anchor}"
            );
        }
        let mut alerts = alerts;
        let mut linked = linked;
        alerts.sort();
        linked.sort();
        assert_eq!(alerts, linked, "the console lists every alert of the rules");
    }
}
