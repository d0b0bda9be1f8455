package smfake

import (
	"slices"
	"time"
)

// holder returns the ID of the version carrying stage, or "".
func (sec *secret) holder(stage string) string {
	for _, id := range sec.order {
		if slices.Contains(sec.versions[id].stages, stage) {
			return id
		}
	}
	return ""
}

// attach puts stage on version id, taking it from whichever version had it.
// Moving AWSCURRENT gives its old holder AWSPREVIOUS, as the service does.
func (sec *secret) attach(id, stage string) {
	old := sec.holder(stage)
	if old == id {
		return
	}
	if old != "" {
		sec.detach(old, stage)
		if stage == StageCurrent {
			sec.attach(old, StagePrevious)
		}
	}
	sec.versions[id].stages = append(sec.versions[id].stages, stage)
}

func (sec *secret) detach(id, stage string) {
	v := sec.versions[id]
	v.stages = slices.DeleteFunc(v.stages, func(s string) bool { return s == stage })
}

func (sec *secret) newVersion(id string, now time.Time) *version {
	v := &version{id: id, created: now}
	sec.versions[id] = v
	sec.order = append(sec.order, id)
	return v
}

// rotationInProgress mirrors the service's rule: AWSPENDING on a version
// that is not AWSCURRENT means a rotation has not finished.
func (sec *secret) rotationInProgress() bool {
	p := sec.holder(StagePending)
	return p != "" && !slices.Contains(sec.versions[p].stages, StageCurrent)
}

// checkValue validates a value before anything else: a malformed request is
// InvalidParameterException even when its token names an existing version,
// so it never passes for an idempotent repeat.
func checkValue(str *string, bin []byte) *apiError {
	if (str == nil) == (bin == nil) {
		return errInvalidParameter("You must provide either SecretString or SecretBinary, but not both.")
	}
	if (str != nil && len(*str) > maxSecretSize) || len(bin) > maxSecretSize {
		return errInvalidParameter("The secret value exceeds the maximum size of %d bytes.", maxSecretSize)
	}
	return nil
}

// setValue fills v with a value that checkValue accepted.
func setValue(v *version, str *string, bin []byte) {
	v.hasValue, v.str, v.bin = true, str, bin
}

// sameValue reports whether the request carries the version's data: a
// SecretString never equals a SecretBinary, even with the same bytes.
func sameValue(v *version, str *string, bin []byte) bool {
	if str != nil {
		return v.str != nil && *v.str == *str
	}
	return v.bin != nil && string(v.bin) == string(bin)
}
