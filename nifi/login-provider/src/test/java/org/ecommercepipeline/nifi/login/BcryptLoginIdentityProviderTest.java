package org.ecommercepipeline.nifi.login;

import org.apache.nifi.authentication.AuthenticationResponse;
import org.apache.nifi.authentication.LoginCredentials;
import org.apache.nifi.authentication.exception.InvalidLoginCredentialsException;
import org.apache.nifi.authentication.exception.ProviderCreationException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BcryptLoginIdentityProviderTest {

    private static final String USERNAME = "admin";

    private static final String PASSWORD = "secret-password";

    /** Test-only password hashed by Python: bcrypt.hashpw(b'secret-password', bcrypt.gensalt()) */
    private static final String PYTHON_PASSWORD_HASH = "$2b$12$BeUob/F40qCwXxfd6feo/OKbtPg10o9tqkl/1m4wWKQj0NH28loAu";

    private BcryptLoginIdentityProvider provider;

    @BeforeEach
    void setProvider() {
        provider = new BcryptLoginIdentityProvider();
        provider.initialize(null);
    }

    @Test
    void testAuthenticateValidCredentials() {
        provider.onConfigured(validContext());

        final AuthenticationResponse response = provider.authenticate(new LoginCredentials(USERNAME, PASSWORD));

        assertEquals(USERNAME, response.getIdentity());
        assertEquals(USERNAME, response.getUsername());
        assertEquals(BcryptLoginIdentityProvider.class.getSimpleName(), response.getIssuer());
    }

    @ParameterizedTest
    @ValueSource(strings = {"$2a$", "$2y$"})
    void testAuthenticateOtherBcryptVersions(final String versionPrefix) {
        final String passwordHash = versionPrefix + PYTHON_PASSWORD_HASH.substring(versionPrefix.length());
        provider.onConfigured(validContext().with(BcryptLoginIdentityProvider.PASSWORD_HASH_PROPERTY, passwordHash));

        assertEquals(USERNAME, provider.authenticate(new LoginCredentials(USERNAME, PASSWORD)).getIdentity());
    }

    @Test
    void testAuthenticateWrongPasswordRefused() {
        provider.onConfigured(validContext());

        assertThrows(InvalidLoginCredentialsException.class, () -> provider.authenticate(new LoginCredentials(USERNAME, "wrong-password")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " "})
    void testAuthenticateEmptyPasswordRefused(final String password) {
        provider.onConfigured(validContext());

        assertThrows(InvalidLoginCredentialsException.class, () -> provider.authenticate(new LoginCredentials(USERNAME, password)));
        assertThrows(InvalidLoginCredentialsException.class, () -> provider.authenticate(new LoginCredentials(USERNAME, null)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " "})
    void testAuthenticateEmptyUsernameRefused(final String username) {
        provider.onConfigured(validContext());

        assertThrows(InvalidLoginCredentialsException.class, () -> provider.authenticate(new LoginCredentials(username, PASSWORD)));
        assertThrows(InvalidLoginCredentialsException.class, () -> provider.authenticate(new LoginCredentials(null, PASSWORD)));
    }

    @Test
    void testAuthenticateUnknownUserRefusedLikeWrongPassword() {
        provider.onConfigured(validContext());

        final InvalidLoginCredentialsException unknownUser = assertThrows(InvalidLoginCredentialsException.class,
                () -> provider.authenticate(new LoginCredentials("unknown", PASSWORD)));
        final InvalidLoginCredentialsException wrongPassword = assertThrows(InvalidLoginCredentialsException.class,
                () -> provider.authenticate(new LoginCredentials(USERNAME, "wrong-password")));
        assertEquals(wrongPassword.getMessage(), unknownUser.getMessage());
    }

    @Test
    void testAuthenticatePasswordLongerThanBcryptLimitRefused() {
        provider.onConfigured(validContext());

        assertThrows(InvalidLoginCredentialsException.class, () -> provider.authenticate(new LoginCredentials(USERNAME, "x".repeat(100))));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "  "})
    void testOnConfiguredMissingUsername(final String username) {
        final ProviderCreationException e = assertThrows(ProviderCreationException.class,
                () -> provider.onConfigured(validContext().with(BcryptLoginIdentityProvider.USERNAME_PROPERTY, username)));
        assertTrue(e.getMessage().contains(BcryptLoginIdentityProvider.USERNAME_PROPERTY));

        final MapConfigurationContext withoutUsername = new MapConfigurationContext()
                .with(BcryptLoginIdentityProvider.PASSWORD_HASH_PROPERTY, PYTHON_PASSWORD_HASH);
        assertThrows(ProviderCreationException.class, () -> provider.onConfigured(withoutUsername));
    }

    @Test
    void testOnConfiguredMissingPasswordHash() {
        final MapConfigurationContext context = new MapConfigurationContext()
                .with(BcryptLoginIdentityProvider.USERNAME_PROPERTY, USERNAME);

        final ProviderCreationException e = assertThrows(ProviderCreationException.class, () -> provider.onConfigured(context));
        assertTrue(e.getMessage().contains(BcryptLoginIdentityProvider.PASSWORD_HASH_PROPERTY));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "secret-password",
            "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=",
            "$2x$12$BeUob/F40qCwXxfd6feo/OKbtPg10o9tqkl/1m4wWKQj0NH28loAu",
            "$2b$12$BeUob/F40qCwXxfd6feo/OKbtPg10o9tqkl/1m4wWKQj0NH28lo",
            "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
    })
    void testOnConfiguredNotBcryptHash(final String passwordHash) {
        final ProviderCreationException e = assertThrows(ProviderCreationException.class,
                () -> provider.onConfigured(validContext().with(BcryptLoginIdentityProvider.PASSWORD_HASH_PROPERTY, passwordHash)));

        assertTrue(e.getMessage().contains(BcryptLoginIdentityProvider.PASSWORD_HASH_PROPERTY));
        assertFalse(e.getMessage().contains(passwordHash));
    }

    @Test
    void testExpirationDefault() {
        provider.onConfigured(validContext());

        final AuthenticationResponse response = provider.authenticate(new LoginCredentials(USERNAME, PASSWORD));

        assertEquals(TimeUnit.HOURS.toMillis(12), response.getExpiration());
    }

    @Test
    void testExpirationConfigured() {
        provider.onConfigured(validContext().with(BcryptLoginIdentityProvider.AUTHENTICATION_EXPIRATION_PROPERTY, "30 mins"));

        final AuthenticationResponse response = provider.authenticate(new LoginCredentials(USERNAME, PASSWORD));

        assertEquals(TimeUnit.MINUTES.toMillis(30), response.getExpiration());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0 hours", "12", "twelve hours", "12 fortnights"})
    void testExpirationNotValid(final String expiration) {
        final ProviderCreationException e = assertThrows(ProviderCreationException.class,
                () -> provider.onConfigured(validContext().with(BcryptLoginIdentityProvider.AUTHENTICATION_EXPIRATION_PROPERTY, expiration)));

        assertTrue(e.getMessage().contains(BcryptLoginIdentityProvider.AUTHENTICATION_EXPIRATION_PROPERTY));
    }

    private static MapConfigurationContext validContext() {
        return new MapConfigurationContext()
                .with(BcryptLoginIdentityProvider.USERNAME_PROPERTY, USERNAME)
                .with(BcryptLoginIdentityProvider.PASSWORD_HASH_PROPERTY, PYTHON_PASSWORD_HASH);
    }
}
