//! A small pull parser for the XML of bank statements: elements, attributes,
//! text and CDATA, the five predefined entities and character references.
//! Comments, processing instructions and the declaration are skipped. A
//! document type declaration is refused, so no entity is ever defined, let
//! alone expanded; nesting deeper than the limit is refused; every end tag
//! must close the element it names. Names lose their namespace prefix.
//!
//! Written here rather than taken from a crate: it is all camt.053 needs, its
//! bounds are ours, and it fuzzes with no dependencies.

use crate::StatementError;

#[derive(Debug, PartialEq, Eq)]
pub enum Token<'a> {
    Start {
        name: &'a str,
        attributes: Vec<(&'a str, String)>,
    },
    End {
        name: &'a str,
    },
    Text(String),
}

pub struct Reader<'a> {
    text: &'a str,
    at: usize,
    open: Vec<&'a str>,
    pending_end: Option<&'a str>,
    max_depth: usize,
    max_text: usize,
    started: bool,
}

fn local(name: &str) -> &str {
    name.rsplit_once(':').map_or(name, |(_, l)| l)
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a str, max_depth: usize, max_text: usize) -> Self {
        Reader {
            text: text.strip_prefix('\u{feff}').unwrap_or(text),
            at: 0,
            open: Vec::new(),
            pending_end: None,
            max_depth,
            max_text,
            started: false,
        }
    }

    fn error(&self, reason: impl Into<String>) -> StatementError {
        StatementError::new(format!("byte {}", self.at), "xml", reason)
    }

    /// The next token; none at the end of a complete document.
    pub fn next(&mut self) -> Result<Option<Token<'a>>, StatementError> {
        if let Some(name) = self.pending_end.take() {
            self.open.pop();
            return Ok(Some(Token::End { name }));
        }
        loop {
            let rest = &self.text[self.at..];
            if rest.is_empty() {
                if !self.open.is_empty() {
                    return Err(self.error(format!("<{}> is never closed", self.open.join("/"))));
                }
                if !self.started {
                    return Err(self.error("no element"));
                }
                return Ok(None);
            }
            if let Some(after) = rest.strip_prefix("<?") {
                let end = after
                    .find("?>")
                    .ok_or_else(|| self.error("an unterminated processing instruction"))?;
                let decl = &after[..end];
                if decl.starts_with("xml") {
                    let lower = decl.to_ascii_lowercase();
                    if let Some(i) = lower.find("encoding") {
                        let enc = lower[i..].split(['"', '\'']).nth(1).unwrap_or("");
                        if enc != "utf-8" && enc != "utf8" {
                            return Err(self.error(format!("the encoding {enc} (UTF-8 only)")));
                        }
                    }
                }
                self.at += 2 + end + 2;
                continue;
            }
            if let Some(after) = rest.strip_prefix("<!--") {
                let end = after
                    .find("-->")
                    .ok_or_else(|| self.error("an unterminated comment"))?;
                self.at += 4 + end + 3;
                continue;
            }
            if rest.starts_with("<!DOCTYPE") || rest.starts_with("<!doctype") {
                return Err(self.error("a document type declaration (entities are not allowed)"));
            }
            if let Some(after) = rest.strip_prefix("<![CDATA[") {
                let end = after
                    .find("]]>")
                    .ok_or_else(|| self.error("an unterminated CDATA section"))?;
                if self.open.is_empty() {
                    return Err(self.error("text outside the root element"));
                }
                if end > self.max_text {
                    return Err(self.error(format!("a text longer than {} bytes", self.max_text)));
                }
                self.at += 9 + end + 3;
                return Ok(Some(Token::Text(after[..end].to_string())));
            }
            if rest.starts_with("<!") {
                return Err(self.error("an unexpected declaration"));
            }
            if let Some(after) = rest.strip_prefix("</") {
                let end = after
                    .find('>')
                    .ok_or_else(|| self.error("an unterminated end tag"))?;
                let name = after[..end].trim_end();
                let expected = self
                    .open
                    .pop()
                    .ok_or_else(|| self.error(format!("</{name}> closes nothing")))?;
                if expected != name {
                    return Err(self.error(format!("</{name}> closes <{expected}>")));
                }
                self.at += 2 + end + 1;
                return Ok(Some(Token::End { name: local(name) }));
            }
            if let Some(after) = rest.strip_prefix('<') {
                return self.start(after).map(Some);
            }
            // Text up to the next tag.
            let end = rest.find('<').unwrap_or(rest.len());
            let raw = &rest[..end];
            if end > self.max_text {
                return Err(self.error(format!("a text longer than {} bytes", self.max_text)));
            }
            if self.open.is_empty() {
                if raw.trim().is_empty() {
                    self.at += end;
                    continue;
                }
                return Err(self.error("text outside the root element"));
            }
            let text = self.unescape(raw)?;
            self.at += end;
            return Ok(Some(Token::Text(text)));
        }
    }

    fn start(&mut self, after: &'a str) -> Result<Token<'a>, StatementError> {
        if self.open.is_empty() && self.started {
            return Err(self.error("a second root element"));
        }
        let name_end = after
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .ok_or_else(|| self.error("an unterminated start tag"))?;
        let name = &after[..name_end];
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || "_-.:".contains(c))
        {
            return Err(self.error("an element without a valid name"));
        }
        let mut i = name_end;
        let mut attributes = Vec::new();
        let empty;
        loop {
            let rest = &after[i..];
            let trimmed = rest.trim_start();
            i += rest.len() - trimmed.len();
            if trimmed.starts_with("/>") {
                empty = true;
                i += 2;
                break;
            }
            if trimmed.starts_with('>') {
                empty = false;
                i += 1;
                break;
            }
            let eq = trimmed
                .find('=')
                .ok_or_else(|| self.error(format!("an attribute of <{name}> without a value")))?;
            let key = trimmed[..eq].trim();
            if key.is_empty() || key.contains(['<', '>', '/', '"', '\'']) {
                return Err(self.error(format!("an attribute of <{name}> without a name")));
            }
            let value_part = trimmed[eq + 1..].trim_start();
            let quote = value_part
                .chars()
                .next()
                .filter(|c| *c == '"' || *c == '\'')
                .ok_or_else(|| self.error(format!("an unquoted attribute of <{name}>")))?;
            let close = value_part[1..]
                .find(quote)
                .ok_or_else(|| self.error(format!("an unterminated attribute of <{name}>")))?;
            let raw = &value_part[1..1 + close];
            if raw.contains('<') {
                return Err(self.error(format!("'<' in an attribute of <{name}>")));
            }
            if attributes.len() >= 64 {
                return Err(self.error(format!("too many attributes on <{name}>")));
            }
            attributes.push((local(key), self.unescape(raw)?));
            // Advance past key, '=', spaces, the quoted value.
            i += (trimmed.len() - value_part.len()) + 1 + close + 1;
        }
        if self.open.len() >= self.max_depth {
            return Err(self.error(format!("elements nested deeper than {}", self.max_depth)));
        }
        self.started = true;
        self.at += 1 + i;
        self.open.push(name);
        if empty {
            self.pending_end = Some(local(name));
        }
        Ok(Token::Start {
            name: local(name),
            attributes,
        })
    }

    fn unescape(&self, raw: &str) -> Result<String, StatementError> {
        if !raw.contains('&') {
            return Ok(raw.to_string());
        }
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(i) = rest.find('&') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            let end = after
                .find(';')
                .filter(|e| *e <= 10)
                .ok_or_else(|| self.error("an '&' that is not a reference"))?;
            let name = &after[..end];
            let c = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let code = if let Some(hex) = name.strip_prefix("#x") {
                        u32::from_str_radix(hex, 16).ok()
                    } else if let Some(dec) = name.strip_prefix('#') {
                        dec.parse().ok()
                    } else {
                        return Err(self.error(format!("the undefined entity &{name};")));
                    };
                    code.and_then(char::from_u32)
                        .ok_or_else(|| self.error(format!("the reference &{name};")))?
                }
            };
            out.push(c);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(xml: &str) -> Result<Vec<String>, StatementError> {
        let mut r = Reader::new(xml, 8, 100);
        let mut out = Vec::new();
        while let Some(t) = r.next()? {
            out.push(match t {
                Token::Start { name, attributes } => format!("<{name}{attributes:?}"),
                Token::End { name } => format!("/{name}"),
                Token::Text(t) => t,
            });
        }
        Ok(out)
    }

    #[test]
    fn reads_elements_attributes_and_text_and_refuses_what_is_unsafe() {
        assert_eq!(
            tokens("<?xml version=\"1.0\" encoding=\"UTF-8\"?><a:D x='1 &amp; 2'><B>x &lt; &#x44;</B><C/></a:D>")
                .unwrap(),
            vec![
                "<D[(\"x\", \"1 & 2\")]",
                "<B[]",
                "x < D",
                "/B",
                "<C[]",
                "/C",
                "/D"
            ]
        );
        let refused = |xml: &str| tokens(xml).unwrap_err().reason;
        assert!(refused("<!DOCTYPE x [<!ENTITY a \"aaaa\">]><x>&a;</x>").contains("document type"));
        assert!(refused("<x>&a;</x>").contains("undefined entity"));
        assert!(refused("<x><y></x>").contains("closes"));
        assert!(refused("<x>").contains("never closed"));
        assert!(
            refused("<a><a><a><a><a><a><a><a><a></a></a></a></a></a></a></a></a></a>")
                .contains("deeper")
        );
        assert!(refused(&format!("<x>{}</x>", "a".repeat(200))).contains("longer"));
        assert!(refused("<x/><y/>").contains("second root"));
        assert!(refused("").contains("no element"));
        assert!(refused("<?xml version='1.0' encoding='ISO-8859-1'?><x/>").contains("UTF-8"));
    }
}
