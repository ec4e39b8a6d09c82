//! Every function against scipy.signal's values (`tests/data/make_filter_golden.py`).
//! f64: within 1e-12 of the reference's largest magnitude (designs 1e-13); f32 filtering
//! (scipy in f32 too): within 1e-4 for the recursions, 1e-5 for FIR.

use filter::{
    Band, FilterError, PadType, Section, Symmetry, Window, ZeroPhase, butter, cheby1, cheby2, filtfilt_along,
    filtfilt_with, firwin_scaled, freqz, kaiser_atten, kaiser_beta, kaiserord, lfilter, lfilter_along,
    lfilter_with_state, lfilter_zi, sosfilt, sosfilt_along, sosfilt_with_state, sosfilt_zi,
    sosfiltfilt_along, sosfiltfilt_with, sosfreqz,
};
use num_complex::Complex64;
use serde::Deserialize;

#[derive(Deserialize)]
struct Golden {
    scipy: String,
    x: Vec<f64>,
    windows: Vec<WindowCase>,
    firwin: Vec<FirwinCase>,
    kaiser: KaiserCases,
    butter: Vec<ButterCase>,
    lfilter: Vec<LfilterCase>,
    sosfilt: Vec<SosfiltCase>,
    filtfilt: Vec<FiltfiltCase>,
    sosfiltfilt: Vec<SosfiltfiltCase>,
    freqz: Vec<FreqzCase>,
    sosfreqz: SosfreqzCase,
    along: AlongCases,
    chebyshev: Vec<ChebyshevCase>,
}

#[derive(Deserialize)]
struct ChebyshevCase {
    kind: String,
    ripple: f64,
    order: usize,
    btype: String,
    wn: Vec<f64>,
    zeros: Vec<[f64; 2]>,
    poles: Vec<[f64; 2]>,
    gain: f64,
    sos: Vec<Vec<f64>>,
}

#[derive(Deserialize)]
struct AlongCases {
    x2: Vec<Vec<f64>>,
    x3: Vec<f64>,
    x3_shape: Vec<usize>,
    b: Vec<f64>,
    a: Vec<f64>,
    sos: Vec<Vec<f64>>,
    lfilter_axis0: Vec<f64>,
    lfilter_axis1: Vec<f64>,
    sosfilt_axis1_3d: Vec<f64>,
    filtfilt_axis0: Vec<f64>,
    sosfiltfilt_axis0: Vec<f64>,
    sosfiltfilt_axis1_even2: Vec<f64>,
}

#[derive(Deserialize)]
struct WindowCase {
    name: String,
    len: usize,
    symmetric: bool,
    w: Vec<f64>,
}

#[derive(Deserialize)]
struct FirwinCase {
    numtaps: usize,
    cutoff: Vec<f64>,
    pass_zero: bool,
    window: String,
    scale: bool,
    taps: Vec<f64>,
}

#[derive(Deserialize)]
struct KaiserCases {
    beta: Vec<[f64; 2]>,
    atten: Vec<[f64; 3]>,
    ord: Vec<[f64; 4]>,
}

#[derive(Deserialize)]
struct ButterCase {
    order: usize,
    btype: String,
    wn: Vec<f64>,
    zeros: Vec<[f64; 2]>,
    poles: Vec<[f64; 2]>,
    gain: f64,
    b: Vec<f64>,
    a: Vec<f64>,
    ba_stable: bool,
    sos: Vec<Vec<f64>>,
}

#[derive(Deserialize)]
struct LfilterCase {
    name: String,
    b: Vec<f64>,
    a: Vec<f64>,
    zi: Vec<f64>,
    y: Vec<f64>,
    y_zi: Vec<f64>,
    zf: Vec<f64>,
    y32: Vec<f64>,
}

#[derive(Deserialize)]
struct SosfiltCase {
    name: String,
    sos: Vec<Vec<f64>>,
    zi: Vec<Vec<f64>>,
    y: Vec<f64>,
    y_zi: Vec<f64>,
    zf: Vec<Vec<f64>>,
    y32: Vec<f64>,
}

#[derive(Deserialize)]
struct FiltfiltCase {
    name: String,
    b: Vec<f64>,
    a: Vec<f64>,
    padtype: String,
    padlen: Option<usize>,
    y: Vec<f64>,
}

#[derive(Deserialize)]
struct SosfiltfiltCase {
    name: String,
    sos: Vec<Vec<f64>>,
    padtype: String,
    padlen: Option<usize>,
    y: Vec<f64>,
}

#[derive(Deserialize)]
struct FreqzCase {
    name: String,
    b: Vec<f64>,
    a: Vec<f64>,
    n: usize,
    whole: bool,
    w: Vec<f64>,
    h: Vec<[f64; 2]>,
}

#[derive(Deserialize)]
struct SosfreqzCase {
    sos: Vec<Vec<f64>>,
    n: usize,
    w: Vec<f64>,
    h: Vec<[f64; 2]>,
}

fn golden() -> Golden {
    let text = include_str!("data/filter_golden.json");
    serde_json::from_str(text).unwrap_or_else(|e| panic!("filter_golden.json: {e}"))
}

/// `max |got - want| <= tolerance * max(|want|)` (and equal lengths).
#[track_caller]
fn assert_close(what: &str, got: &[f64], want: &[f64], tolerance: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let scale = want.iter().fold(0.0_f64, |m, v| m.max(v.abs())).max(f64::MIN_POSITIVE);
    let error = got.iter().zip(want).fold(0.0_f64, |m, (g, w)| m.max((g - w).abs()));
    assert!(error <= tolerance * scale, "{what}: error {error:e} over {tolerance:e} x {scale:e}");
}

fn complex(values: &[[f64; 2]]) -> Vec<Complex64> {
    values.iter().map(|[re, im]| Complex64::new(*re, *im)).collect()
}

fn assert_close_complex(what: &str, got: &[Complex64], want: &[Complex64], tolerance: f64) {
    let flat = |v: &[Complex64]| v.iter().flat_map(|c| [c.re, c.im]).collect::<Vec<_>>();
    assert_close(what, &flat(got), &flat(want), tolerance);
}

/// The same roots in any order (numpy's signed zeros decide which of a conjugate pair comes
/// first): each expected root matched to the nearest unused one.
#[track_caller]
fn assert_same_roots(what: &str, got: &[Complex64], want: &[Complex64], tolerance: f64) {
    assert_eq!(got.len(), want.len(), "{what}: count");
    let mut unused: Vec<Complex64> = got.to_vec();
    for root in want {
        let nearest = (0..unused.len())
            .min_by(|&i, &j| (unused[i] - root).norm().total_cmp(&(unused[j] - root).norm()))
            .unwrap_or_else(|| panic!("{what}: no root left for {root}"));
        let distance = (unused.swap_remove(nearest) - root).norm();
        assert!(distance <= tolerance * root.norm().max(1.0), "{what}: {root} missed by {distance:e}");
    }
}

fn sections(rows: &[Vec<f64>]) -> Vec<Section<f64>> {
    rows.iter().map(|r| [r[0], r[1], r[2], r[3], r[4], r[5]]).collect()
}

fn band(btype: &str, edges: &[f64]) -> Band {
    match (btype, edges) {
        ("lowpass", [f]) => Band::Lowpass(*f),
        ("highpass", [f]) => Band::Highpass(*f),
        ("bandpass", [lo, hi]) => Band::Bandpass(*lo, *hi),
        ("bandstop", [lo, hi]) => Band::Bandstop(*lo, *hi),
        other => panic!("unexpected band {other:?}"),
    }
}

fn zero_phase(padtype: &str, padlen: Option<usize>) -> ZeroPhase {
    let padtype = match padtype {
        "odd" => PadType::Odd,
        "even" => PadType::Even,
        "constant" => PadType::Constant,
        "None" => PadType::None,
        other => panic!("unexpected padtype {other}"),
    };
    ZeroPhase { padtype, padlen }
}

#[test]
fn the_golden_file_is_scipys() {
    let golden = golden();
    assert!(golden.scipy.starts_with('1'), "scipy {}", golden.scipy);
    assert_eq!(golden.x.len(), 300);
}

#[test]
fn windows_match_scipy() {
    let cases = golden().windows;
    assert_eq!(cases.len(), 13 * 7 * 2);
    for case in cases {
        let window: Window = case.name.parse().unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let symmetry = if case.symmetric { Symmetry::Symmetric } else { Symmetry::Periodic };
        let w = window.samples(case.len, symmetry).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_close(&format!("{} {} {symmetry:?}", case.name, case.len), &w, &case.w, 1e-14);
    }
}

#[test]
fn firwin_matches_scipy() {
    for case in golden().firwin {
        let window: Window = case.window.parse().unwrap_or_else(|e| panic!("{}: {e}", case.window));
        let band = Band::Multiband { edges: case.cutoff.clone(), pass_zero: case.pass_zero };
        let taps = firwin_scaled(case.numtaps, &band, &window, case.scale)
            .unwrap_or_else(|e| panic!("{} {:?}: {e}", case.numtaps, case.cutoff));
        assert_close(
            &format!("firwin {} {:?} {}", case.numtaps, case.cutoff, case.window),
            &taps,
            &case.taps,
            1e-13,
        );
    }
}

#[test]
fn kaiser_formulas_match_scipy() {
    let cases = golden().kaiser;
    for [attenuation, beta] in cases.beta {
        assert_close("kaiser_beta", &[kaiser_beta(attenuation)], &[beta], 1e-15);
    }
    for [numtaps, width, attenuation] in cases.atten {
        assert_close("kaiser_atten", &[kaiser_atten(numtaps as usize, width)], &[attenuation], 1e-15);
    }
    for [ripple, width, numtaps, beta] in cases.ord {
        let (n, b) = kaiserord(ripple, width).unwrap_or_else(|e| panic!("kaiserord({ripple}, {width}): {e}"));
        assert_eq!(n as f64, numtaps, "kaiserord({ripple}, {width})");
        assert_close("kaiserord beta", &[b], &[beta], 1e-15);
    }
}

#[test]
fn butter_matches_scipy_in_every_form() {
    let cases = golden().butter;
    assert_eq!(cases.len(), 36);
    let mut unstable_ba = 0;
    for case in cases {
        let what = format!("butter({}, {:?}, {})", case.order, case.wn, case.btype);
        let zpk = butter(case.order, &band(&case.btype, &case.wn)).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_same_roots(&format!("{what} zeros"), &zpk.zeros, &complex(&case.zeros), 1e-13);
        assert_same_roots(&format!("{what} poles"), &zpk.poles, &complex(&case.poles), 1e-13);
        assert_close(&format!("{what} gain"), &[zpk.gain], &[case.gain], 1e-12);
        let sos = zpk.to_sos().unwrap_or_else(|e| panic!("{what} sos: {e}"));
        assert_close(&format!("{what} sos"), sos.as_flattened(), sections(&case.sos).as_flattened(), 1e-12);
        match zpk.to_ba() {
            Ok((b, a)) => {
                assert_close(&format!("{what} b"), &b, &case.b, 1e-12);
                assert_close(&format!("{what} a"), &a, &case.a, 1e-12);
            }
            Err(FilterError::Unstable { .. }) => {
                // Refused only where scipy's own coefficients have a root on or outside the circle.
                assert!(!case.ba_stable, "{what}: refused a stable ba");
                unstable_ba += 1;
            }
            Err(e) => panic!("{what} ba: {e}"),
        }
    }
    // The order-8 lowpass at 0.02 is the case that needs sections.
    assert!(unstable_ba <= 2, "{unstable_ba} designs refused as ba");
}

#[test]
fn lfilter_and_its_state_match_scipy() {
    let golden = golden();
    let x = &golden.x;
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    for case in &golden.lfilter {
        let name = &case.name;
        let zi = lfilter_zi(&case.b, &case.a).unwrap_or_else(|e| panic!("{name} zi: {e}"));
        assert_close(&format!("{name} lfilter_zi"), &zi, &case.zi, 1e-12);
        let y = lfilter(&case.b, &case.a, x).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_close(&format!("{name} lfilter"), &y, &case.y, 1e-12);
        let start: Vec<f64> = zi.iter().map(|z| z * x[0]).collect();
        let (y_zi, zf) =
            lfilter_with_state(&case.b, &case.a, x, &start).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_close(&format!("{name} lfilter zi"), &y_zi, &case.y_zi, 1e-12);
        assert_close(&format!("{name} lfilter zf"), &zf, &case.zf, 1e-12);
        let b32: Vec<f32> = case.b.iter().map(|&v| v as f32).collect();
        let a32: Vec<f32> = case.a.iter().map(|&v| v as f32).collect();
        let y32 = lfilter(&b32, &a32, &x32).unwrap_or_else(|e| panic!("{name} f32: {e}"));
        let tolerance = if case.a.len() == 1 { 1e-5 } else { 1e-4 };
        let widened: Vec<f64> = y32.iter().map(|&v| f64::from(v)).collect();
        assert_close(&format!("{name} lfilter f32"), &widened, &case.y32, tolerance);
    }
}

#[test]
fn sosfilt_and_its_state_match_scipy() {
    let golden = golden();
    let x = &golden.x;
    for case in &golden.sosfilt {
        let name = &case.name;
        let sos = sections(&case.sos);
        let zi = sosfilt_zi(&sos).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_close(&format!("{name} sosfilt_zi"), zi.as_flattened(), &case.zi.concat(), 1e-12);
        let y = sosfilt(&sos, x).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_close(&format!("{name} sosfilt"), &y, &case.y, 1e-12);
        let start: Vec<[f64; 2]> = zi.iter().map(|z| [z[0] * x[0], z[1] * x[0]]).collect();
        let (y_zi, zf) = sosfilt_with_state(&sos, x, &start).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_close(&format!("{name} sosfilt zi"), &y_zi, &case.y_zi, 1e-12);
        assert_close(&format!("{name} sosfilt zf"), zf.as_flattened(), &case.zf.concat(), 1e-12);
        let sos32 = filter::cast_sections::<f32>(&sos);
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let y32 = sosfilt(&sos32, &x32).unwrap_or_else(|e| panic!("{name} f32: {e}"));
        let widened: Vec<f64> = y32.iter().map(|&v| f64::from(v)).collect();
        assert_close(&format!("{name} sosfilt f32"), &widened, &case.y32, 1e-4);
    }
}

#[test]
fn zero_phase_filtering_matches_scipy() {
    let golden = golden();
    let x = &golden.x;
    for case in &golden.filtfilt {
        let what = format!("filtfilt {} {} {:?}", case.name, case.padtype, case.padlen);
        let y = filtfilt_with(&case.b, &case.a, x, zero_phase(&case.padtype, case.padlen))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_close(&what, &y, &case.y, 1e-12);
    }
    for case in &golden.sosfiltfilt {
        let what = format!("sosfiltfilt {} {} {:?}", case.name, case.padtype, case.padlen);
        let y = sosfiltfilt_with(&sections(&case.sos), x, zero_phase(&case.padtype, case.padlen))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_close(&what, &y, &case.y, 1e-12);
    }
}

#[test]
fn frequency_responses_match_scipy() {
    let golden = golden();
    for case in &golden.freqz {
        let response =
            freqz(&case.b, &case.a, case.n, case.whole).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_close(&format!("{} w", case.name), &response.frequencies, &case.w, 1e-15);
        assert_close_complex(&format!("{} h", case.name), &response.response, &complex(&case.h), 1e-12);
    }
    let case = &golden.sosfreqz;
    let response = sosfreqz(&sections(&case.sos), case.n, false).unwrap_or_else(|e| panic!("sosfreqz: {e}"));
    assert_close("sosfreqz w", &response.frequencies, &case.w, 1e-15);
    assert_close_complex("sosfreqz h", &response.response, &complex(&case.h), 1e-12);
}

#[test]
fn calls_along_an_axis_match_scipys_axis_argument() {
    let case = golden().along;
    let rows = case.x2.len();
    let x2 = ndarray::Array2::from_shape_vec((rows, case.x2[0].len()), case.x2.concat())
        .unwrap_or_else(|e| panic!("x2: {e}"));
    let x3 = ndarray::Array3::from_shape_vec(
        (case.x3_shape[0], case.x3_shape[1], case.x3_shape[2]),
        case.x3.clone(),
    )
    .unwrap_or_else(|e| panic!("x3: {e}"));
    let sos = sections(&case.sos);
    let flat = |a: ndarray::ArrayD<f64>| a.iter().copied().collect::<Vec<_>>();
    let check = |what: &str, got: Result<ndarray::ArrayD<f64>, FilterError>, want: &[f64]| {
        let got = got.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_close(what, &flat(got), want, 1e-12);
    };
    check(
        "lfilter axis 0",
        lfilter_along(&case.b, &case.a, &x2, 0).map(|a| a.into_dyn()),
        &case.lfilter_axis0,
    );
    check(
        "lfilter axis 1",
        lfilter_along(&case.b, &case.a, &x2, 1).map(|a| a.into_dyn()),
        &case.lfilter_axis1,
    );
    check(
        "sosfilt axis 1 of a volume",
        sosfilt_along(&sos, &x3, 1).map(|a| a.into_dyn()),
        &case.sosfilt_axis1_3d,
    );
    let default = ZeroPhase::default();
    check(
        "filtfilt axis 0",
        filtfilt_along(&case.b, &case.a, &x2, 0, default).map(|a| a.into_dyn()),
        &case.filtfilt_axis0,
    );
    check(
        "sosfiltfilt axis 0",
        sosfiltfilt_along(&sos, &x2, 0, default).map(|a| a.into_dyn()),
        &case.sosfiltfilt_axis0,
    );
    let even = ZeroPhase { padtype: PadType::Even, padlen: Some(2) };
    check(
        "sosfiltfilt axis 1 even",
        sosfiltfilt_along(&sos, &x2.view(), 1, even).map(|a| a.into_dyn()),
        &case.sosfiltfilt_axis1_even2,
    );
    assert_eq!(lfilter_along(&case.b, &case.a, &x2, 2), Err(FilterError::Axis { axis: 2, ndim: 2 }));
    // The default padding (15 samples) is longer than a row of 6.
    assert!(matches!(sosfiltfilt_along(&sos, &x2, 1, default), Err(FilterError::TooShortForPadding { .. })));
}

#[test]
fn chebyshev_designs_match_scipy() {
    let cases = golden().chebyshev;
    assert_eq!(cases.len(), 4 * 6 * 4);
    for case in cases {
        let what = format!("{}({}, {}, {:?}, {})", case.kind, case.order, case.ripple, case.wn, case.btype);
        let band = band(&case.btype, &case.wn);
        let zpk = match case.kind.as_str() {
            "cheby1" => cheby1(case.order, case.ripple, &band),
            _ => cheby2(case.order, case.ripple, &band),
        }
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_same_roots(&format!("{what} zeros"), &zpk.zeros, &complex(&case.zeros), 1e-12);
        assert_same_roots(&format!("{what} poles"), &zpk.poles, &complex(&case.poles), 1e-12);
        assert_close(&format!("{what} gain"), &[zpk.gain], &[case.gain], 1e-12);
        let sos = zpk.to_sos().unwrap_or_else(|e| panic!("{what} sos: {e}"));
        assert_close(&format!("{what} sos"), sos.as_flattened(), sections(&case.sos).as_flattened(), 1e-12);
    }
}
