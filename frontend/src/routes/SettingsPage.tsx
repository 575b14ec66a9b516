// Account settings: profile, avatar, password, sessions, labels, API keys, webhooks.
import { useState } from 'react';
import { ApiKeysSection } from '../settings/ApiKeysSection';
import { AvatarSection } from '../settings/AvatarSection';
import { LabelsSection } from '../settings/LabelsSection';
import { PasswordSection } from '../settings/PasswordSection';
import { ProfileSection } from '../settings/ProfileSection';
import { SessionsSection } from '../settings/SessionsSection';
import { WebhooksSection } from '../settings/WebhooksSection';
import { PageHeading } from '../ui/PageHeading';

export default function SettingsPage() {
  // A password change ends the other sessions: the list is read again.
  const [sessionsVersion, setSessionsVersion] = useState(0);
  return (
    <div className="page narrow settings">
      <PageHeading title="Account">Account</PageHeading>
      <ProfileSection />
      <AvatarSection />
      <PasswordSection onChanged={() => setSessionsVersion((v) => v + 1)} />
      <SessionsSection version={sessionsVersion} />
      <LabelsSection />
      <ApiKeysSection />
      <WebhooksSection />
    </div>
  );
}
