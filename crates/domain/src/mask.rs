//! Masking rules for PII shown in the UI and written to logs.
//!
//! The backend masks before data crosses IPC; the UI only ever sees a clear value
//! after an audited reveal.

/// `13812345678` → `138****5678`. Anything shorter than 8 characters is fully starred.
pub fn phone(digits: &str) -> String {
    keep_ends(digits, 3, 4)
}

/// ID number: first 1 and last 1 shown, e.g. `1****************X`.
pub fn id_number(id: &str) -> String {
    keep_ends(id, 1, 1)
}

/// Card: BIN (first 6) + last 4, e.g. `622202******1234`.
pub fn card(bin: &str, last4: &str, len: usize) -> String {
    let stars = len.saturating_sub(bin.chars().count() + last4.chars().count());
    format!("{bin}{}{last4}", "*".repeat(stars))
}

/// Names keep the surname and, for names of three or more characters, the last one:
/// `张三` → `张*`, `欧阳娜娜` → `欧**娜`.
pub fn name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_owned(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

/// `zhangsan@example.com` → `z*******@example.com`.
pub fn email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let mut chars = local.chars();
            let first = chars.next().map(String::from).unwrap_or_default();
            format!("{first}{}@{domain}", "*".repeat(chars.count().max(1)))
        }
        None => keep_ends(email, 1, 0),
    }
}

fn keep_ends(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks() {
        assert_eq!(super::phone("13812345678"), "138****5678");
        assert_eq!(super::phone("1234"), "****");
        assert_eq!(super::id_number("11010519491231002X"), "1****************X");
        assert_eq!(super::card("622202", "1234", 19), "622202*********1234");
        assert_eq!(super::name("张三"), "张*");
        assert_eq!(super::name("欧阳娜娜"), "欧**娜");
        assert_eq!(super::name("王䶮"), "王*");
        assert_eq!(super::email("zhangsan@example.com"), "z*******@example.com");
        assert_eq!(super::email("a@b.cn"), "a*@b.cn");
    }
}
