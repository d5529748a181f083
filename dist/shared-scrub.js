// Credentials that may appear in outside text the action has no secret for: a traceback's frame
// arguments (`password=…`, `'password': …`), a DSN with its password. Cut wherever such text is
// shown, on top of the masking of every secret the run knows.
const CREDENTIALS = [
    [/\b(password|passwd|pwd|secret|token)(\s*[=:]\s*|'\s*:\s*|"\s*:\s*)('[^']*'|"[^"]*"|[^\s,;)}]+)/gi, '$1$2***'],
    [/(\/\/)[^/\s:@]+:[^@\s]+@/g, '$1***@']
];
const MAY_HOLD_CREDENTIALS = /pass|pwd|secret|token|@/i;
function scrubCredentials(text) {
    if (!MAY_HOLD_CREDENTIALS.test(text))
        return text;
    let safe = text;
    for (const [pattern, replacement] of CREDENTIALS)
        safe = safe.replace(pattern, replacement);
    return safe;
}

export { scrubCredentials as s };
