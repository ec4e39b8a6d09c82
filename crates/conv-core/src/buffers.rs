//! Fallible allocation of the front end's buffers. `vec!`, `Vec::resize` and `collect` abort the
//! process when the allocator refuses (and panic with "capacity overflow" past `isize::MAX`
//! bytes); a caller who raised [`ConvSpec::max_buffer_bytes`](crate::ConvSpec::max_buffer_bytes)
//! past what the machine has gets [`ConvError::OutOfMemory`] from these instead.

use crate::error::ConvError;

/// The error for `len` values of `T` the allocator would not provide.
fn out_of_memory<T>(len: usize, what: &'static str) -> ConvError {
    ConvError::OutOfMemory { what, bytes: (len as u128).saturating_mul(size_of::<T>() as u128) }
}

/// `len` copies of `value` (zeros, in practice). `vec!` is kept, so that a large zeroed buffer
/// comes from the allocator's zeroed pages (no pass of writes before the backend's); what it
/// would abort on is refused first: more bytes than `isize::MAX`, or than the machine's memory
/// and swap (which Linux's default overcommit refuses too). Where the machine's memory is not
/// known, the allocator is asked first with a fallible reservation.
pub(crate) fn filled<T: Clone>(len: usize, value: T, what: &'static str) -> Result<Vec<T>, ConvError> {
    let bytes = (len as u128).saturating_mul(size_of::<T>() as u128);
    let memory = machine_memory();
    if bytes > isize::MAX as u128 || memory.is_some_and(|memory| bytes > memory) {
        return Err(out_of_memory::<T>(len, what));
    }
    if memory.is_none() {
        let mut probe: Vec<T> = Vec::new();
        probe.try_reserve_exact(len).map_err(|_| out_of_memory::<T>(len, what))?;
    }
    Ok(vec![value; len])
}

/// The machine's memory and swap in bytes (`MemTotal + SwapTotal` of `/proc/meminfo`), read
/// once; `None` where that file does not exist or does not say.
fn machine_memory() -> Option<u128> {
    static MEMORY: std::sync::OnceLock<Option<u128>> = std::sync::OnceLock::new();
    *MEMORY.get_or_init(|| {
        let info = std::fs::read_to_string("/proc/meminfo").ok()?;
        let kib = |key: &str| -> Option<u128> {
            let line = info.lines().find(|line| line.starts_with(key))?;
            line.split_whitespace().nth(1)?.parse().ok()
        };
        Some((kib("MemTotal:")? + kib("SwapTotal:").unwrap_or(0)) * 1024)
    })
}

/// Makes `buffer` `len` long (its values are then overwritten by the caller), reusing its
/// allocation when it is large enough.
pub(crate) fn resize<T: Clone>(
    buffer: &mut Vec<T>,
    len: usize,
    value: T,
    what: &'static str,
) -> Result<(), ConvError> {
    if len > buffer.len() {
        buffer.try_reserve_exact(len - buffer.len()).map_err(|_| out_of_memory::<T>(len, what))?;
    }
    buffer.resize(len, value);
    Ok(())
}

/// Makes a kept `buffer` `len` long for a caller that then overwrites every value: a buffer
/// already `len` long is left as it is (no pass over memory), any other is emptied first so that
/// growing it copies no stale values. `placeholder` fills the new slots until they are overwritten.
pub(crate) fn resize_for_overwrite<T: Clone>(
    buffer: &mut Vec<T>,
    len: usize,
    placeholder: T,
    what: &'static str,
) -> Result<(), ConvError> {
    if buffer.len() != len {
        buffer.clear();
        resize(buffer, len, placeholder, what)?;
    }
    Ok(())
}

/// The values of `values` collected into a vector of exactly `values.len()` elements.
pub(crate) fn collect<T>(
    values: impl ExactSizeIterator<Item = T>,
    what: &'static str,
) -> Result<Vec<T>, ConvError> {
    let mut out = Vec::new();
    out.try_reserve_exact(values.len()).map_err(|_| out_of_memory::<T>(values.len(), what))?;
    out.extend(values);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_allocations_are_typed_errors() {
        // Past isize::MAX bytes ("capacity overflow") and past any machine's memory.
        for len in [usize::MAX / 2, 1 << 50] {
            assert!(matches!(
                filled(len, 0.0_f64, "output"),
                Err(ConvError::OutOfMemory { what: "output", .. })
            ));
            let mut buffer = vec![1.0_f32; 3];
            assert!(matches!(
                resize(&mut buffer, len, 0.0, "padded input"),
                Err(ConvError::OutOfMemory { .. })
            ));
            assert_eq!(buffer, [1.0; 3], "a refused resize leaves the buffer as it was");
        }
        assert_eq!(filled(4, 0.5_f64, "output").unwrap(), [0.5; 4]);
        assert_eq!(collect([1, 2, 3].into_iter(), "copy").unwrap(), [1, 2, 3]);
    }
}
