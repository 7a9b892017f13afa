// The GraphQL documents the tests share: one declaration of each everyday operation, with the
// union of the fields the tests read. A test that needs an odd shape (a bad query, aliases, a
// selection that is itself under test, a payload kept small on purpose) declares its own.
import { graphql } from "../generated/gql.ts";

// ---------------------------------------------------------------------------------------------
// Organizations, API keys, senders, campaigns

export const Viewer = graphql(`
  query Viewer {
    viewer {
      role
      organization {
        id
        name
      }
    }
  }
`);

export const CreateOrganization = graphql(`
  mutation CreateOrganization($name: String!) {
    createOrganization(input: { name: $name }) {
      organization {
        id
        name
      }
      secret
    }
  }
`);

export const CreateApiKey = graphql(`
  mutation CreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      secret
      apiKey {
        id
        name
        role
        secretPrefix
        campaignIds
        revokedAt
      }
    }
  }
`);

export const RevokeApiKey = graphql(`
  mutation RevokeApiKey($id: ID!) {
    revokeApiKey(input: { id: $id }) {
      apiKey {
        id
        revokedAt
      }
    }
  }
`);

export const CreateSender = graphql(`
  mutation CreateSender($input: CreateSenderInput!) {
    createSender(input: $input) {
      sender {
        id
        address
        kind
      }
    }
  }
`);

export const CreateCampaign = graphql(`
  mutation CreateCampaign($input: CreateCampaignInput!) {
    createCampaign(input: $input) {
      campaign {
        id
        name
        status
      }
    }
  }
`);

export const SetCampaignStatus = graphql(`
  mutation SetCampaignStatus($input: SetCampaignStatusInput!) {
    setCampaignStatus(input: $input) {
      campaign {
        id
        status
      }
    }
  }
`);

/** setCampaignStatus to ACTIVE, the last step of most set-ups. */
export const ActivateCampaign = graphql(`
  mutation ActivateCampaign($id: ID!) {
    setCampaignStatus(input: { id: $id, status: ACTIVE }) {
      campaign {
        id
        status
      }
    }
  }
`);

export const UpdateCampaign = graphql(`
  mutation UpdateCampaign($input: UpdateCampaignInput!) {
    updateCampaign(input: $input) {
      campaign {
        id
        name
        doubleOptIn
      }
    }
  }
`);

// ---------------------------------------------------------------------------------------------
// Consent

export const OptIn = graphql(`
  mutation OptIn($input: OptInInput!) {
    optIn(input: $input) {
      changed
      confirmationMessage
      consent {
        id
        status
        method
        expiresAt
        subscriber {
          id
          phone
        }
        campaign {
          id
        }
      }
      event {
        id
        cursor
        sequence
        fromStatus
        toStatus
        method
        occurredAt
        evidence
        prevHash
        hash
      }
    }
  }
`);

export const ConfirmOptIn = graphql(`
  mutation ConfirmOptIn($input: ConfirmOptInInput!) {
    confirmOptIn(input: $input) {
      changed
      consent {
        id
        status
        expiresAt
      }
      event {
        id
        sequence
        fromStatus
        toStatus
        method
      }
    }
  }
`);

export const OptOut = graphql(`
  mutation OptOut($input: OptOutInput!) {
    optOut(input: $input) {
      changed
      confirmationMessage
      consents {
        id
        status
        campaign {
          id
        }
      }
      events {
        id
        cursor
        sequence
        fromStatus
        toStatus
        method
        hash
        campaign {
          id
        }
      }
    }
  }
`);

export const CanSend = graphql(`
  query CanSend($phone: String!, $campaignId: ID!, $at: DateTime) {
    canSend(phone: $phone, campaignId: $campaignId, at: $at) {
      phone
      allowed
      reason
      nextAllowedAt
      consent {
        id
        status
      }
    }
  }
`);

export const CanSendMany = graphql(`
  query CanSendMany($phones: [String!]!, $campaignId: ID!, $at: DateTime) {
    canSendMany(phones: $phones, campaignId: $campaignId, at: $at) {
      phone
      allowed
      reason
      nextAllowedAt
      consent {
        id
        status
      }
    }
  }
`);

export const VerifyLedger = graphql(`
  query VerifyLedger {
    verifyLedger {
      ok
      eventsChecked
      firstBrokenEventId
    }
  }
`);

// ---------------------------------------------------------------------------------------------
// Inbound messages

export const ReceiveInboundMessage = graphql(`
  mutation ReceiveInboundMessage($input: InboundMessageInput!) {
    receiveInboundMessage(input: $input) {
      duplicate
      reply
      keywordEvent {
        id
        cursor
        sequence
        from
        to
        body
        providerMessageId
        keyword
        intent
        needsReview
        review
        heldIntent
        reviewDueAt
        reviewedAt
        reply
        repliedAt
        receivedAt
        sender {
          id
        }
        campaigns {
          id
        }
        consentEvents {
          id
          sequence
          fromStatus
          toStatus
          method
          evidence
          campaign {
            id
          }
          subscriber {
            phone
          }
        }
      }
    }
  }
`);

export const MarkKeywordEventReviewed = graphql(`
  mutation MarkKeywordEventReviewed($id: ID!) {
    markKeywordEventReviewed(input: { id: $id }) {
      keywordEvent {
        id
        needsReview
        reviewedAt
        reviewDecision
        reviewNote
      }
    }
  }
`);
