package smfake

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

type createSecretIn struct {
	Name               *string
	ClientRequestToken *string
	Description        *string
	SecretString       *string
	SecretBinary       []byte
}

func (s *Server) createSecret(in *createSecretIn) (any, *apiError) {
	if in.Name == nil || *in.Name == "" {
		return nil, errInvalidParameter("Name is required")
	}
	if err := checkToken(in.ClientRequestToken); err != nil {
		return nil, err
	}
	if _, exists := s.secrets[*in.Name]; exists {
		return nil, &apiError{400, "ResourceExistsException", fmt.Sprintf("The operation failed because the secret %s already exists.", *in.Name)}
	}
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	suffix := make([]byte, 6)
	for i := range suffix {
		suffix[i] = letters[rand.IntN(len(letters))]
	}
	sec := &secret{
		name:     *in.Name,
		arn:      fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", Region, AccountID, *in.Name, suffix),
		created:  s.now(),
		versions: map[string]*version{},
	}
	out := map[string]any{"ARN": sec.arn, "Name": sec.name}
	// Without a value the secret has no version at all: GetSecretValue
	// answers ResourceNotFound until something is put.
	if in.SecretString != nil || in.SecretBinary != nil {
		id := randomToken()
		if in.ClientRequestToken != nil {
			id = *in.ClientRequestToken
		}
		if err := checkValue(in.SecretString, in.SecretBinary); err != nil {
			return nil, err
		}
		v := sec.newVersion(id, s.now())
		setValue(v, in.SecretString, in.SecretBinary)
		sec.attach(id, StageCurrent)
		out["VersionId"] = id
	}
	s.secrets[sec.name] = sec
	return out, nil
}

type secretIDIn struct {
	SecretId *string
}

func (s *Server) describeSecret(in *secretIDIn) (any, *apiError) {
	sec, err := s.mustLookup(in.SecretId)
	if err != nil {
		return nil, err
	}
	// Only labelled versions are listed; unlabelled ones are deprecated.
	stages := map[string][]string{}
	for _, id := range sec.order {
		if v := sec.versions[id]; len(v.stages) > 0 {
			stages[id] = slices.Clone(v.stages)
		}
	}
	out := map[string]any{
		"ARN":                sec.arn,
		"Name":               sec.name,
		"CreatedDate":        epoch(sec.created),
		"RotationEnabled":    sec.rotationEnabled,
		"VersionIdsToStages": stages,
	}
	if sec.rotationLambdaARN != "" {
		out["RotationLambdaARN"] = sec.rotationLambdaARN
	}
	if sec.rotationDays != nil {
		out["RotationRules"] = map[string]any{"AutomaticallyAfterDays": *sec.rotationDays}
	}
	return out, nil
}

type getSecretValueIn struct {
	SecretId     *string
	VersionId    *string
	VersionStage *string
}

func (s *Server) getSecretValue(in *getSecretValueIn) (any, *apiError) {
	sec, err := s.mustLookup(in.SecretId)
	if err != nil {
		return nil, err
	}
	var v *version
	switch {
	case in.VersionId != nil:
		v = sec.versions[*in.VersionId]
		if v == nil {
			return nil, errNotFound("Secrets Manager can't find the specified secret value for VersionId: %s", *in.VersionId)
		}
		// With both, the version must carry the stage.
		if in.VersionStage != nil && !slices.Contains(v.stages, *in.VersionStage) {
			return nil, errNotFound("Secrets Manager can't find the specified secret value for VersionId: %s and staging label: %s", *in.VersionId, *in.VersionStage)
		}
	default:
		stage := StageCurrent
		if in.VersionStage != nil {
			stage = *in.VersionStage
		}
		if id := sec.holder(stage); id != "" {
			v = sec.versions[id]
		}
		if v == nil {
			return nil, errNotFound("Secrets Manager can't find the specified secret value for staging label: %s", stage)
		}
	}
	if !v.hasValue {
		return nil, errNotFound("Secrets Manager can't find the specified secret value for VersionId: %s", v.id)
	}
	out := map[string]any{
		"ARN":           sec.arn,
		"Name":          sec.name,
		"VersionId":     v.id,
		"VersionStages": slices.Clone(v.stages),
		"CreatedDate":   epoch(v.created),
	}
	if v.str != nil {
		out["SecretString"] = *v.str
	} else {
		out["SecretBinary"] = v.bin // encoding/json writes []byte as base64, as the protocol does
	}
	return out, nil
}

type putSecretValueIn struct {
	SecretId           *string
	ClientRequestToken *string
	SecretString       *string
	SecretBinary       []byte
	VersionStages      []string
}

func (s *Server) putSecretValue(in *putSecretValueIn) (any, *apiError) {
	sec, err := s.mustLookup(in.SecretId)
	if err != nil {
		return nil, err
	}
	if err := checkToken(in.ClientRequestToken); err != nil {
		return nil, err
	}
	id := randomToken()
	if in.ClientRequestToken != nil {
		id = *in.ClientRequestToken
	}
	if err := checkValue(in.SecretString, in.SecretBinary); err != nil {
		return nil, err
	}
	stages := in.VersionStages
	if len(stages) == 0 {
		stages = []string{StageCurrent}
	}
	v := sec.versions[id]
	switch {
	case v != nil && v.hasValue:
		// Idempotency by ClientRequestToken, whatever labels the version
		// carries (AWSPENDING, AWSCURRENT, none): the same data again
		// succeeds and changes nothing, not even the labels; different data
		// fails, because versions are immutable. This is the rule that
		// decides a race between two rotation invocations with the same
		// token: the first put wins, the second is refused.
		if !sameValue(v, in.SecretString, in.SecretBinary) {
			return nil, errVersionExists()
		}
		return map[string]any{"ARN": sec.arn, "Name": sec.name, "VersionId": id, "VersionStages": slices.Clone(v.stages)}, nil
	case v == nil:
		v = sec.newVersion(id, s.now())
	}
	// v is new or the empty version made by RotateSecret: fill it. Staging
	// labels other than AWSCURRENT move too: a label is on one version at a
	// time, so AWSPENDING leaves whichever version had it.
	setValue(v, in.SecretString, in.SecretBinary)
	for _, st := range stages {
		sec.attach(id, st)
	}
	return map[string]any{"ARN": sec.arn, "Name": sec.name, "VersionId": id, "VersionStages": slices.Clone(v.stages)}, nil
}

type updateStageIn struct {
	SecretId            *string
	VersionStage        *string
	MoveToVersionId     *string
	RemoveFromVersionId *string
}

func (s *Server) updateSecretVersionStage(in *updateStageIn) (any, *apiError) {
	sec, err := s.mustLookup(in.SecretId)
	if err != nil {
		return nil, err
	}
	if in.VersionStage == nil || *in.VersionStage == "" {
		return nil, errInvalidParameter("VersionStage is required")
	}
	stage := *in.VersionStage
	holder := sec.holder(stage)
	var moveTo, removeFrom string
	if in.MoveToVersionId != nil {
		moveTo = *in.MoveToVersionId
		if sec.versions[moveTo] == nil {
			return nil, errNotFound("Secrets Manager can't find the specified secret version: %s", moveTo)
		}
	}
	if in.RemoveFromVersionId != nil {
		removeFrom = *in.RemoveFromVersionId
		if sec.versions[removeFrom] == nil {
			return nil, errNotFound("Secrets Manager can't find the specified secret version: %s", removeFrom)
		}
		if holder != removeFrom {
			return nil, errInvalidParameter("The staging label %s is not attached to version %s.", stage, removeFrom)
		}
	}
	out := map[string]any{"ARN": sec.arn, "Name": sec.name}
	if moveTo == "" {
		if removeFrom == "" {
			return nil, errInvalidParameter("Specify MoveToVersionId, RemoveFromVersionId or both.")
		}
		if stage == StageCurrent {
			return nil, errInvalidParameter("You can't remove the staging label AWSCURRENT without moving it to another version.")
		}
		sec.detach(removeFrom, stage)
		return out, nil
	}
	// Taking a label from another version must be explicit.
	if holder != "" && holder != moveTo && removeFrom != holder {
		return nil, errInvalidParameter("The parameter RemoveFromVersionId can't be empty. Staging label %s is currently attached to version %s, so you must explicitly reference that version in RemoveFromVersionId.", stage, holder)
	}
	sec.attach(moveTo, stage)
	return out, nil
}

type rotateSecretIn struct {
	SecretId           *string
	ClientRequestToken *string
	RotationLambdaARN  *string
	RotationRules      *struct{ AutomaticallyAfterDays *int64 }
	RotateImmediately  *bool
}

func (s *Server) rotateSecret(in *rotateSecretIn) (any, *apiError) {
	sec, err := s.mustLookup(in.SecretId)
	if err != nil {
		return nil, err
	}
	if err := checkToken(in.ClientRequestToken); err != nil {
		return nil, err
	}
	if in.RotationLambdaARN != nil {
		sec.rotationLambdaARN = *in.RotationLambdaARN
	}
	if in.RotationRules != nil {
		sec.rotationDays = in.RotationRules.AutomaticallyAfterDays
	}
	if sec.rotationLambdaARN == "" {
		return nil, errInvalidRequest("No Lambda rotation function ARN is associated with this secret.")
	}
	sec.rotationEnabled = true
	out := map[string]any{"ARN": sec.arn, "Name": sec.name}
	if in.RotateImmediately != nil && !*in.RotateImmediately {
		return out, nil
	}
	id := randomToken()
	if in.ClientRequestToken != nil {
		id = *in.ClientRequestToken
	}
	if v := sec.versions[id]; v != nil {
		out["VersionId"] = id // same token again: the same rotation
		return out, nil
	}
	if sec.rotationInProgress() {
		return nil, errInvalidRequest("A previous rotation isn't complete. That rotation will be reattempted.")
	}
	// The service creates the new version without a value and stages it
	// AWSPENDING, then invokes the rotation function with its ID as the
	// ClientRequestToken. The fake stops before the invocation.
	sec.newVersion(id, s.now())
	sec.attach(id, StagePending)
	out["VersionId"] = id
	return out, nil
}
