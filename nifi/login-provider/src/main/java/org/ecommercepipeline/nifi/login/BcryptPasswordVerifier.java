package org.ecommercepipeline.nifi.login;

import at.favre.lib.crypto.bcrypt.BCrypt;

import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * Verifies passwords against one bcrypt hash, accepting the $2a$, $2b$ and $2y$ variants that tools such as
 * Python's bcrypt package or htpasswd produce.
 */
class BcryptPasswordVerifier {

    /** Version, two-digit cost between 04 and 31, then 22 characters of salt and 31 characters of hash */
    private static final Pattern BCRYPT_HASH_PATTERN = Pattern.compile("^\\$2[aby]\\$(0[4-9]|[12][0-9]|3[01])\\$[./A-Za-z0-9]{53}$");

    private final BCrypt.Verifyer verifyer = BCrypt.verifyer();

    private final char[] passwordHash;

    BcryptPasswordVerifier(final String passwordHash) {
        if (!isBcryptHash(passwordHash)) {
            throw new IllegalArgumentException("Password hash is not a bcrypt hash");
        }
        this.passwordHash = passwordHash.toCharArray();
    }

    static boolean isBcryptHash(final String value) {
        return value != null && BCRYPT_HASH_PATTERN.matcher(value).matches();
    }

    /**
     * Check a password against the hash
     *
     * @param password Clear-text password
     * @return true when the password matches; false otherwise, including passwords longer than bcrypt's 72 byte limit
     */
    boolean isVerified(final String password) {
        final char[] passwordChars = password.toCharArray();
        try {
            return verifyer.verify(passwordChars, passwordHash).verified;
        } catch (final IllegalArgumentException e) {
            return false;
        } finally {
            Arrays.fill(passwordChars, '\0');
        }
    }
}
