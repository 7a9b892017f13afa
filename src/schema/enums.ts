// The public enums, taken from the Prisma schema so the database and the API cannot drift apart.
import {
  CampaignPurpose,
  CampaignStatus,
  ConsentMethod,
  ConsentStatus,
  KeywordIntent,
  Role,
  SenderKind,
} from "../generated/prisma/enums.ts";
import { builder } from "./builder.ts";

export const RoleEnum = builder.enumType(Role, { name: "Role" });
export const SenderKindEnum = builder.enumType(SenderKind, { name: "SenderKind" });
export const CampaignPurposeEnum = builder.enumType(CampaignPurpose, { name: "CampaignPurpose" });
export const CampaignStatusEnum = builder.enumType(CampaignStatus, { name: "CampaignStatus" });
export const ConsentStatusEnum = builder.enumType(ConsentStatus, { name: "ConsentStatus" });
export const ConsentMethodEnum = builder.enumType(ConsentMethod, { name: "ConsentMethod" });
export const KeywordIntentEnum = builder.enumType(KeywordIntent, { name: "KeywordIntent" });
