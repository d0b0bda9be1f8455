package idpmeta

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/samlflex/samlflex/pkg/samlflex"
)

// DefaultTimeout bounds one fetch: connection, TLS, redirects and body. An
// IdP answers its metadata URL in well under a second; the CLI should not
// hang on a firewall that drops packets.
const DefaultTimeout = 15 * time.Second

// maxRedirects follows a moved metadata URL (Salesforce My Domain renames,
// a CDN) without looping.
const maxRedirects = 5

// Loader reads IdP metadata from a file or an https URL. The zero value is
// ready to use.
type Loader struct {
	// Client sends the requests; nil means a client on
	// http.DefaultTransport. Loader uses a copy with its own redirect rule
	// and never changes the caller's client.
	Client *http.Client
	// Timeout bounds one fetch; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxBytes caps the document; 0 means samlflex.MaxIdPMetadataBytes.
	MaxBytes int64
}

// Import loads the metadata named by source (see Load) and parses it with
// samlflex.ParseIdPMetadata: entityID chooses among several IdPs ("" for
// the only one), now checks validUntil and certificate expiry.
func (l *Loader) Import(ctx context.Context, source, entityID string, now time.Time) (samlflex.IdPMetadata, error) {
	raw, err := l.Load(ctx, source)
	if err != nil {
		return samlflex.IdPMetadata{}, err
	}
	return samlflex.ParseIdPMetadata(raw, now, entityID)
}

// Load reads source: an https:// URL is fetched (Fetch), any other URL is
// refused, and anything without "://" is a file path.
func (l *Loader) Load(ctx context.Context, source string) ([]byte, error) {
	source = strings.TrimSpace(source)
	if strings.Contains(source, "://") {
		return l.Fetch(ctx, source)
	}
	return l.readFile(source)
}

// Fetch downloads the metadata at rawURL, which must be https, as must
// every redirect. The body is read up to MaxBytes; a longer one is refused
// rather than cut, since a cut document would fail later with a less
// helpful XML error.
func (l *Loader) Fetch(ctx context.Context, rawURL string) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, samlflex.NewError(samlflex.CodeInvalidConfig, "The IdP metadata URL is not an absolute https:// URL.", fmt.Errorf("metadata URL: %w", err))
	}
	if u.Scheme != "https" {
		return nil, errNotHTTPS("metadata URL", u)
	}
	if u.Host == "" {
		return nil, samlflex.NewError(samlflex.CodeInvalidConfig, "The IdP metadata URL is not an absolute https:// URL.", fmt.Errorf("metadata URL %s has no host", u.Redacted()))
	}
	ctx, cancel := context.WithTimeout(ctx, l.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, samlflex.NewError(samlflex.CodeInvalidConfig, "The IdP metadata URL is not an absolute https:// URL.", err)
	}
	req.Header.Set("Accept", "application/samlmetadata+xml, application/xml;q=0.9, */*;q=0.1")
	resp, err := l.client().Do(req)
	if err != nil {
		return nil, fetchError(ctx, u, l.timeout(), err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, samlflex.NewError(samlflex.CodeInvalidConfig, "The IdP metadata URL did not answer with the metadata (the HTTP status was not 200 OK). Check the URL, or download the metadata and give the file instead.",
			fmt.Errorf("GET %s: %s", u.Redacted(), resp.Status))
	}
	limit := l.maxBytes()
	if resp.ContentLength > limit {
		return nil, errTooLarge(limit, fmt.Errorf("GET %s: Content-Length %d", u.Redacted(), resp.ContentLength))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fetchError(ctx, u, l.timeout(), err)
	}
	if int64(len(body)) > limit {
		return nil, errTooLarge(limit, fmt.Errorf("GET %s: body over %d bytes", u.Redacted(), limit))
	}
	return body, nil
}

// client returns a copy of the configured client whose redirects must stay
// on https: a redirect to http would undo the guarantee of the first URL.
func (l *Loader) client() *http.Client {
	c := &http.Client{}
	if l.Client != nil {
		*c = *l.Client
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "https" {
			return errNotHTTPS("metadata URL redirects to", req.URL)
		}
		if len(via) > maxRedirects {
			return samlflex.NewError(samlflex.CodeInvalidConfig, "The IdP metadata URL redirects too many times. Give the final metadata URL, or download the metadata and give the file instead.",
				fmt.Errorf("more than %d redirects, last to %s", maxRedirects, req.URL.Redacted()))
		}
		return nil
	}
	return c
}

func (l *Loader) readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, samlflex.NewError(samlflex.CodeInvalidConfig, "samlflex cannot read the IdP metadata file. Check the path, or give an https:// URL.", err)
	}
	defer func() { _ = f.Close() }()
	limit := l.maxBytes()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, samlflex.NewError(samlflex.CodeInvalidConfig, "samlflex cannot read the IdP metadata file. Check the path, or give an https:// URL.", err)
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge(limit, fmt.Errorf("file %s is over %d bytes", name, limit))
	}
	return b, nil
}

func (l *Loader) timeout() time.Duration {
	if l.Timeout > 0 {
		return l.Timeout
	}
	return DefaultTimeout
}

func (l *Loader) maxBytes() int64 {
	if l.MaxBytes > 0 {
		return l.MaxBytes
	}
	return samlflex.MaxIdPMetadataBytes
}

func errNotHTTPS(what string, u *url.URL) *samlflex.Error {
	return samlflex.NewError(samlflex.CodeInvalidConfig, "The IdP metadata must be fetched over https://, redirects included: it holds the certificates samlflex trusts, and over plain http anyone on the way could replace them. Use the https:// URL, or download the metadata and give the file instead.",
		fmt.Errorf("%s %s", what, u.Redacted()))
}

func errTooLarge(limit int64, detail error) *samlflex.Error {
	return samlflex.NewError(samlflex.CodeInvalidConfig, fmt.Sprintf("The IdP metadata is larger than samlflex accepts (%d bytes). Give the identity provider's own metadata, not a whole federation's.", limit), detail)
}

// fetchError explains a failed request: a timeout names the limit, a
// refused redirect keeps its own error, anything else (DNS, connection,
// TLS certificate) is reported with the transport's words in the detail.
func fetchError(ctx context.Context, u *url.URL, timeout time.Duration, err error) error {
	var se *samlflex.Error
	if errors.As(err, &se) {
		return se
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return samlflex.NewError(samlflex.CodeInvalidConfig, fmt.Sprintf("The IdP metadata URL did not answer within %s. Check the URL and the network, or download the metadata and give the file instead.", timeout),
			fmt.Errorf("GET %s: %w", u.Redacted(), err))
	}
	return samlflex.NewError(samlflex.CodeInvalidConfig, "samlflex could not download the IdP metadata (network or TLS error). Check the URL and the network, or download the metadata and give the file instead.",
		fmt.Errorf("GET %s: %w", u.Redacted(), err))
}
