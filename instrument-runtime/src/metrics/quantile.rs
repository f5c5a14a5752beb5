//! The one rule for a quantile of a histogram's buckets, used by the console summary and by the
//! viewer, so both print the same p50, p95 and p99 for the same points.

/// The `q` quantile (0 to 1) estimated from explicit-bucket counts: the bucket that holds the
/// rank, interpolated linearly between its bounds. The recorded `min` and `max`, when known,
/// close the outer buckets and bound the answer; without them the first bucket starts at 0 (or
/// its upper bound, if negative) and the open last bucket answers its lower bound. `None` when
/// the buckets hold nothing.
///
/// ```
/// use instrument::metrics::histogram_quantile;
///
/// // 100 values: 50 in (0, 10], 45 in (10, 20], 5 in (20, 50]; the largest was 40.
/// let bounds = [10.0, 20.0, 50.0];
/// let counts = [50, 45, 5, 0];
/// assert_eq!(histogram_quantile(&bounds, &counts, Some(1.0), Some(40.0), 0.5), Some(10.0));
/// assert_eq!(histogram_quantile(&bounds, &counts, Some(1.0), Some(40.0), 0.99), Some(36.0));
/// ```
pub fn histogram_quantile(
    bounds: &[f64],
    counts: &[u64],
    min: Option<f64>,
    max: Option<f64>,
    q: f64,
) -> Option<f64> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = q.clamp(0.0, 1.0) * total as f64;
    let mut seen = 0u64;
    for (i, &count) in counts.iter().enumerate() {
        if count == 0 {
            continue;
        }
        if (seen + count) as f64 >= rank {
            let upper_bound = bounds.get(i).copied();
            let mut lower = match i {
                0 => min.unwrap_or_else(|| upper_bound.map_or(0.0, |upper| upper.min(0.0))),
                _ => bounds[i - 1],
            };
            if let Some(min) = min {
                lower = lower.max(min);
            }
            let Some(mut upper) = upper_bound.or(max) else {
                return Some(lower);
            };
            if let Some(max) = max {
                upper = upper.min(max);
            }
            let fraction = (rank - seen as f64) / count as f64;
            return Some(lower + (upper - lower).max(0.0) * fraction);
        }
        seen += count;
    }
    max.or(bounds.last().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_come_from_the_buckets() {
        // 100 values: 50 in (0, 10], 45 in (10, 20], 5 in (20, 50]; min 1, max 40.
        let bounds = [10.0, 20.0, 50.0];
        let counts = [50, 45, 5, 0];
        let p = |q| histogram_quantile(&bounds, &counts, Some(1.0), Some(40.0), q).unwrap();
        assert_eq!(p(0.5), 10.0);
        assert!((p(0.95) - 20.0).abs() < 1e-9);
        assert!((p(0.99) - 36.0).abs() < 1e-9, "{}", p(0.99));
        assert_eq!(
            histogram_quantile(&bounds, &[0, 0, 0, 0], None, None, 0.5),
            None
        );
    }

    #[test]
    fn without_min_and_max_the_outer_buckets_close_at_zero_and_their_lower_bound() {
        let bounds = [10.0, 20.0, 50.0];
        let counts = [50, 40, 10, 0];
        let p = |q| histogram_quantile(&bounds, &counts, None, None, q);
        assert_eq!(p(0.5), Some(10.0));
        assert_eq!(p(0.7), Some(15.0));
        assert_eq!(p(0.95), Some(35.0));
        assert_eq!(
            histogram_quantile(&bounds, &[0, 0, 0, 3], None, None, 0.5),
            Some(50.0)
        );
    }

    #[test]
    fn min_and_max_bound_the_answer() {
        let bounds = [10.0, 20.0];
        let counts = [0, 0, 4];
        assert_eq!(
            histogram_quantile(&bounds, &counts, Some(25.0), Some(45.0), 0.5),
            Some(35.0)
        );
        assert_eq!(
            histogram_quantile(&bounds, &[2, 0, 0], Some(4.0), Some(6.0), 1.0),
            Some(6.0)
        );
    }
}
