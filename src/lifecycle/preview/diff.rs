//! Unified diffs (`diff -u`'s format, three lines of context) of two
//! texts, for the dry run's main.cf changes.  The common head and tail are
//! set aside first, so a longest-common-subsequence table is only made of
//! the few lines an edit touches.

/// One line of the comparison: indices into the old and the new lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Same(usize, usize),
    Removed(usize),
    Added(usize),
}

/// Beyond this many table cells the changed middle is shown as removed and
/// added whole, rather than compared line by line.
const TABLE_LIMIT: usize = 4_000_000;

const CONTEXT: usize = 3;

/// The unified diff of `old` and `new`, labelled as given; empty when the
/// texts are equal.
pub fn unified(old_label: &[u8], new_label: &[u8], old: &[u8], new: &[u8]) -> Vec<u8> {
    let a = lines(old);
    let b = lines(new);
    let ops = compare(&a, &b);
    if ops.iter().all(|op| matches!(op, Op::Same(..))) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (label, mark) in [(old_label, b"--- "), (new_label, b"+++ ")] {
        out.extend_from_slice(mark);
        out.extend_from_slice(label);
        out.push(b'\n');
    }
    for (start, end) in hunks(&ops) {
        let old_before = ops[..start]
            .iter()
            .filter(|op| !matches!(op, Op::Added(_)))
            .count();
        let new_before = ops[..start]
            .iter()
            .filter(|op| !matches!(op, Op::Removed(_)))
            .count();
        let hunk = &ops[start..end];
        let old_count = hunk.iter().filter(|op| !matches!(op, Op::Added(_))).count();
        let new_count = hunk
            .iter()
            .filter(|op| !matches!(op, Op::Removed(_)))
            .count();
        out.extend_from_slice(
            format!(
                "@@ -{} +{} @@\n",
                range(old_before, old_count),
                range(new_before, new_count)
            )
            .as_bytes(),
        );
        for op in hunk {
            let (mark, line) = match *op {
                Op::Same(i, _) => (b' ', a[i]),
                Op::Removed(i) => (b'-', a[i]),
                Op::Added(j) => (b'+', b[j]),
            };
            out.push(mark);
            out.extend_from_slice(line);
            if line.last() != Some(&b'\n') {
                out.extend_from_slice(b"\n\\ No newline at end of file\n");
            }
        }
    }
    out
}

/// A hunk's range as diff numbers it: an empty one by the line before it,
/// a one-line one without its count.
fn range(before: usize, count: usize) -> String {
    match count {
        0 => format!("{before},0"),
        1 => format!("{}", before + 1),
        _ => format!("{},{count}", before + 1),
    }
}

/// The lines of `text`, each with its newline (the last may lack one).
fn lines(text: &[u8]) -> Vec<&[u8]> {
    text.split_inclusive(|&b| b == b'\n').collect()
}

/// The old and new lines, matched.
fn compare(a: &[&[u8]], b: &[&[u8]]) -> Vec<Op> {
    let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (middle_a, middle_b) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut ops: Vec<Op> = (0..head).map(|i| Op::Same(i, i)).collect();
    ops.extend(middle(middle_a, middle_b, head));
    let (end_a, end_b) = (a.len() - tail, b.len() - tail);
    ops.extend((0..tail).map(|k| Op::Same(end_a + k, end_b + k)));
    ops
}

/// The changed middle, compared through a longest-common-subsequence
/// table; `offset` is where it starts in both texts.
fn middle(a: &[&[u8]], b: &[&[u8]], offset: usize) -> Vec<Op> {
    let (n, m) = (a.len(), b.len());
    if (n + 1).saturating_mul(m + 1) > TABLE_LIMIT {
        let removed = (0..n).map(|i| Op::Removed(offset + i));
        return removed
            .chain((0..m).map(|j| Op::Added(offset + j)))
            .collect();
    }
    // longest[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut longest = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            longest[i][j] = if a[i] == b[j] {
                longest[i + 1][j + 1] + 1
            } else {
                longest[i + 1][j].max(longest[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut ops = Vec::new();
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push(Op::Same(offset + i, offset + j));
            i += 1;
            j += 1;
        } else if j < m && (i == n || longest[i][j + 1] >= longest[i + 1][j]) {
            ops.push(Op::Added(offset + j));
            j += 1;
        } else {
            ops.push(Op::Removed(offset + i));
            i += 1;
        }
    }
    // diff shows a change's removed lines before its added ones.
    reorder_changes(&mut ops);
    ops
}

/// Within each run of changed lines, the removals first.
fn reorder_changes(ops: &mut [Op]) {
    let mut start = 0;
    while start < ops.len() {
        if matches!(ops[start], Op::Same(..)) {
            start += 1;
            continue;
        }
        let end = ops[start..]
            .iter()
            .position(|op| matches!(op, Op::Same(..)))
            .map_or(ops.len(), |p| start + p);
        ops[start..end].sort_by_key(|op| match *op {
            Op::Removed(i) => (0, i),
            Op::Added(j) => (1, j),
            Op::Same(..) => (2, 0),
        });
        start = end;
    }
}

/// The hunks as ranges of `ops`: each change with up to three lines of
/// context either side, changes whose contexts meet in one hunk.
fn hunks(ops: &[Op]) -> Vec<(usize, usize)> {
    let mut hunks: Vec<(usize, usize)> = Vec::new();
    for (k, op) in ops.iter().enumerate() {
        if matches!(op, Op::Same(..)) {
            continue;
        }
        let start = k.saturating_sub(CONTEXT);
        let end = (k + 1 + CONTEXT).min(ops.len());
        match hunks.last_mut() {
            Some(last) if start <= last.1 => last.1 = end,
            _ => hunks.push((start, end)),
        }
    }
    hunks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(old: &str, new: &str) -> String {
        String::from_utf8(unified(b"a", b"b", old.as_bytes(), new.as_bytes())).unwrap()
    }

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(diff("x\ny\n", "x\ny\n"), "");
    }

    #[test]
    fn one_changed_line_with_context() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n";
        let new = "1\n2\n3\n4\nfive\n6\n7\n8\n";
        assert_eq!(
            diff(old, new),
            "--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
        );
    }

    #[test]
    fn appended_line_and_missing_newline() {
        assert_eq!(
            diff("a\nb", "a\nb\nc = 1\n"),
            "--- a\n+++ b\n@@ -1,2 +1,3 @@\n a\n-b\n\\ No newline at end of file\n+b\n+c = 1\n"
        );
    }

    #[test]
    fn distant_changes_make_two_hunks_and_empty_ranges_count_from_the_line_before() {
        let old: String = (1..=20).map(|n| format!("{n}\n")).collect();
        let new = old.replace("2\n3\n", "2\nnew\n3\n").replace("18\n", "");
        assert_eq!(
            diff(&old, &new),
            "--- a\n+++ b\n@@ -1,5 +1,6 @@\n 1\n 2\n+new\n 3\n 4\n 5\n\
             @@ -15,6 +16,5 @@\n 15\n 16\n 17\n-18\n 19\n 20\n"
        );
        assert_eq!(diff("", "x\n"), "--- a\n+++ b\n@@ -0,0 +1 @@\n+x\n");
    }
}
