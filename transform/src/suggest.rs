//! "Did you mean": the nearest name to a misspelt one, for diagnostics that can say what
//! was probably meant (a field, an action, a logsource product, an ATT&CK tag).

/// Edit distance counting a swap of neighbours as one edit (optimal string alignment).
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut rows = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    rows[a.len()][b.len()]
}

/// The one candidate nearest to `word` (case-insensitively), if it is close enough to be
/// a typo: one edit for words up to five letters, two up to twelve, three beyond. A tie
/// between two candidates suggests nothing rather than a guess.
pub(crate) fn nearest<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let word = word.to_ascii_lowercase();
    let most = match word.len() {
        0..=5 => 1,
        6..=12 => 2,
        _ => 3,
    };
    let mut best: Option<(usize, &'c str)> = None;
    let mut tied = false;
    for candidate in candidates {
        let d = distance(&word, &candidate.to_ascii_lowercase());
        if d == 0 || d > most {
            continue;
        }
        match best {
            Some((b, c)) if d == b && c != candidate => tied = true,
            Some((b, _)) if d >= b => {}
            _ => {
                best = Some((d, candidate));
                tied = false;
            }
        }
    }
    best.filter(|_| !tied).map(|(_, c)| c)
}

/// `"; did you mean `x`?"` when there is a near candidate, else nothing.
pub(crate) fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> String {
    nearest(word, candidates).map_or_else(String::new, |c| format!("; did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_word_and_ties_find_none() {
        assert_eq!(distance("namepsace", "namespace"), 1);
        let fields = ["workload.namespace", "workload.name", "principal.name"];
        assert_eq!(
            nearest("workload.namepsace", fields),
            Some("workload.namespace")
        );
        assert_eq!(
            nearest("kubernets", ["kubernetes", "docker"]),
            Some("kubernetes")
        );
        assert_eq!(
            nearest("container_exec", ["container-exec", "container-exit"]),
            Some("container-exec")
        );
        assert_eq!(nearest("aws", ["gcp", "azure"]), None);
        assert_eq!(nearest("ab", ["ac", "ad"]), None, "a tie suggests nothing");
        assert_eq!(
            did_you_mean("hihg", ["high", "low"]),
            "; did you mean `high`?"
        );
    }
}
