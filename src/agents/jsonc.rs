//! JSON with comments, the settings format of Gemini CLI and opencode (`.json` files that may
//! hold `//` and `/* */` comments).

use serde_json::Value;

/// JSON with `//` and `/* */` comments (Gemini CLI's settings format), comments outside
/// strings removed; `None` when it is not JSON then.
pub fn parse_jsonc(text: &str) -> Option<Value> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                '\\' => out.extend(chars.next()),
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
                out.push(' ');
            }
            _ => out.push(c),
        }
    }
    serde_json::from_str(&out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_stripped_but_not_inside_strings() {
        let v = parse_jsonc(
            "{\n // the endpoint\n \"e\": \"http://x/*y*/\", /* block */ \"q\": \"a\\\"//b\"\n}",
        )
        .unwrap();
        assert_eq!(v["e"], "http://x/*y*/");
        assert_eq!(v["q"], "a\"//b");
        assert_eq!(parse_jsonc("{ broken"), None);
    }
}
